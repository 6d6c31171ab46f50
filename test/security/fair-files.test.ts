/**
 * One account cannot stall everyone's file processing (PGlite + memory
 * engine, the real claim loops, queue and reaper; only the image work is a
 * slow stand-in that records what runs when):
 * - with one worker, uploaders take turns: someone who uploads during
 *   another's batch is served after the batch's first file, not its last;
 * - with two workers, one account holds at most one of them;
 * - FILE_PROCESS_TIMEOUT_MS (default 30 s) ends a file that takes longer as
 *   failed, with the real Worker-based processor.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call, registerUser, testConfig } from "../helpers/app";
import { buildTestRuntime, type TestRuntime } from "../helpers/runtime";
import type { Processor } from "../../src/modules/files/processor";
import * as fx from "../integration/files/fixtures";

type User = Awaited<ReturnType<typeof registerUser>>;

let rt: TestRuntime | undefined;
let dataDir = "";
afterEach(async () => {
  await rt?.close();
  rt = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

/** A runtime whose file workers run `processor`, two users and their conversation. */
async function start(config: Record<string, string>, processor?: Processor) {
  dataDir = mkdtempSync(join(tmpdir(), "huddle-fair-"));
  rt = await buildTestRuntime("pglite", { config: { DATA_DIR: dataDir, ...config }, ...(processor ? { fileProcessor: processor } : {}) });
  const [a, b] = [await registerUser(rt.app, "fa"), await registerUser(rt.app, "fb")];
  const conv = (await call(rt.app, "POST", "/chat/send", { token: a.access_token, body: { to: b.user.id, content: "pictures" } })).json.message.conversation_id as string;
  return { a, b, conv };
}

async function upload(user: User, conv: string, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const form = new FormData();
  form.set("conversation_id", conv);
  form.set("file", new File([bytes], "p.png"));
  const res = await rt!.app.handle(new Request("http://localhost/files/upload", { method: "POST", headers: { authorization: `Bearer ${user.access_token}` }, body: form }));
  expect(res.status).toBe(202);
  return ((await res.json()) as { file_id: string }).file_id;
}

async function waitAll(user: User, ids: string[], timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  const out: Record<string, any> = {};
  for (const id of ids) {
    for (;;) {
      const s = (await call(rt!.app, "GET", `/files/${id}/status`, { token: user.access_token })).json;
      if (s.status === "completed" || s.status === "failed") {
        out[id] = s;
        break;
      }
      if (Date.now() > deadline) throw new Error(`file ${id} still ${s.status}`);
      await Bun.sleep(50);
    }
  }
  return out;
}

/** Distinct PNGs (by size) named by label, and a stand-in processor logging starts and ends per label. */
async function recorder(labels: string[], workMs: number) {
  const byBytes = new Map<string, string>();
  const images: Record<string, Uint8Array<ArrayBuffer>> = {};
  for (const [i, label] of labels.entries()) {
    images[label] = await fx.pngWithText(20 + i, 20);
    byBytes.set(Buffer.from(images[label]!).toString("base64"), label);
  }
  const log: { label: string; at: "start" | "end" }[] = [];
  const processor: Processor = async (_kind, bytes) => {
    const label = byBytes.get(Buffer.from(bytes).toString("base64")) ?? "?";
    log.push({ label, at: "start" });
    await Bun.sleep(workMs);
    log.push({ label, at: "end" });
    return {};
  };
  return { images, log, processor, starts: () => log.filter((e) => e.at === "start").map((e) => e.label) };
}

describe("fair turns for file processing", () => {
  test("one worker: an upload made during another user's batch runs right after the batch's first file", async () => {
    const r = await recorder(["a1", "a2", "a3", "a4", "b1"], 800);
    const { a, b, conv } = await start({ FILE_WORKER_CONCURRENCY: "1" }, r.processor);
    const mine = [];
    for (const label of ["a1", "a2", "a3", "a4"]) mine.push(await upload(a, conv, r.images[label]!));
    const theirs = await upload(b, conv, r.images.b1!);
    await waitAll(a, [...mine, theirs]);
    expect(r.starts()).toEqual(["a1", "b1", "a2", "a3", "a4"]);
  }, 60_000);

  test("two workers: one account holds at most one; the other user's upload starts at once", async () => {
    // Long enough that b1, behind two deferrals of a's files (200 ms each), starts while a1 still runs.
    const r = await recorder(["a1", "a2", "a3", "b1"], 1500);
    const { a, b, conv } = await start({ FILE_WORKER_CONCURRENCY: "2" }, r.processor);
    const mine = [];
    for (const label of ["a1", "a2", "a3"]) mine.push(await upload(a, conv, r.images[label]!));
    const theirs = await upload(b, conv, r.images.b1!);
    await waitAll(a, [...mine, theirs]);
    let running = 0;
    let most = 0;
    for (const e of r.log.filter((x) => x.label.startsWith("a"))) most = Math.max(most, (running += e.at === "start" ? 1 : -1));
    expect(most).toBe(1);
    // b1 started while a1 was still being processed.
    const at = (label: string, what: "start" | "end") => r.log.findIndex((e) => e.label === label && e.at === what);
    expect(at("b1", "start")).toBeLessThan(at("a1", "end"));
  }, 60_000);
});

describe("FILE_PROCESS_TIMEOUT_MS", () => {
  test("defaults to 30 s", () => {
    expect(testConfig().FILE_PROCESS_TIMEOUT_MS).toBe(30_000);
  });

  test("a file whose processing takes longer ends as failed, with the limit in the reason", async () => {
    const { a, conv } = await start({ FILE_WORKER_CONCURRENCY: "1", FILE_PROCESS_TIMEOUT_MS: "100", MAX_UPLOAD_BYTES: String(20 * 1024 * 1024) });
    const id = await upload(a, conv, await fx.pngWithText(2500, 2000));
    const status = (await waitAll(a, [id]))[id];
    expect(status).toMatchObject({ status: "failed" });
    expect(status.error).toContain("longer than 0.1 s");
  }, 60_000);
});
