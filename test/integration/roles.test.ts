/**
 * The supervision tree the composition root builds for each role (PGlite +
 * memory engine): `api` runs no judge, file or notification workers, a concurrency of 0
 * turns a branch off, `worker` and `all` run a reaper and N claim loops per
 * queue, the judge's loops under a rest_for_one supervisor after the runners.
 */
import { describe, expect, test } from "bun:test";
import { buildTestRuntime } from "../helpers/runtime";

type Node = { name: string; children?: Node[] };

async function tree(config: Record<string, string>): Promise<Node> {
  const rt = await buildTestRuntime("pglite", { config });
  try {
    return rt.system.snapshot() as Node;
  } finally {
    await rt.close();
  }
}

const names = (n: Node | undefined) => (n?.children ?? []).map((c) => c.name);

describe("actor tree by role", () => {
  test("api: persister, canary and conversations only", async () => {
    const root = await tree({ ROLE: "api", WORKER_CONCURRENCY: "2", FILE_WORKER_CONCURRENCY: "2", NOTIFY_WORKER_CONCURRENCY: "2", SMTP_URL: "smtp://127.0.0.1:9" });
    expect(names(root)).toEqual(["persister", "canary", "conversations"]);
  }, 30_000);

  test("worker: the judge (runners, then loops), its reaper, the file and notification branches, the digest with SMTP_URL; 0 disables a branch", async () => {
    const root = await tree({ ROLE: "worker", WORKER_CONCURRENCY: "2", FILE_WORKER_CONCURRENCY: "2", NOTIFY_WORKER_CONCURRENCY: "2", SMTP_URL: "smtp://127.0.0.1:9", INSTANCE_ID: "i1", SANDBOX_BACKEND: "pglite" });
    expect(names(root)).toEqual([
      "persister", "canary", "judge", "reaper", "file-reaper", "file-worker-i1-0", "file-worker-i1-1",
      "notification-reaper", "notification-worker-i1-0", "notification-worker-i1-1", "digest", "conversations",
    ]);
    expect(names(root.children!.find((c) => c.name === "judge"))).toEqual(["sql-runners", "worker-i1-0", "worker-i1-1"]);
    const noFiles = await tree({ ROLE: "all", WORKER_CONCURRENCY: "0", FILE_WORKER_CONCURRENCY: "0", NOTIFY_WORKER_CONCURRENCY: "0" });
    expect(names(noFiles)).toEqual(["persister", "canary", "conversations"]);
  }, 60_000);
});
