/**
 * Retries of a file job, with a processor that fails on purpose (the real
 * queue, reaper, claim loop, database and chat path; only the image work is
 * replaced): a transient failure is retried and the file announced once;
 * three failed attempts end the file as failed, with the reason, and post
 * nothing; the files queue's own attempt limit is the one that counts; a
 * worker stopped mid-job hands the job back without using up an attempt.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTestApp, call, registerUser, type TestApp } from "../../helpers/app";
import { ClaimLoopActor } from "../../../actors/claim-loop.actor";
import { ReaperActor } from "../../../actors/reaper.actor";
import { FILE_MAX_ATTEMPTS, FILES_QUEUE, FileJobs } from "../../../src/modules/files/jobs";
import type { Processor } from "../../../src/modules/files/processor";
import * as fx from "./fixtures";

describe("file job attempts", () => {
  let t: TestApp;
  let dataDir: string;
  let alice: Awaited<ReturnType<typeof registerUser>>;
  let conversation: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "huddle-attempts-"));
    t = await buildTestApp("pglite", { config: { DATA_DIR: dataDir } });
    alice = await registerUser(t.app, "ra");
    const bob = await registerUser(t.app, "rb");
    conversation = (await call(t.app, "POST", "/chat/send", { token: alice.access_token, body: { to: bob.user.id, content: "hi" } })).json.message.conversation_id;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A file claim loop and a fast reaper around `processor`, for the duration of `fn` (as the root wires them). */
  async function withWorker(processor: Processor, fn: () => Promise<void>, maxAttempts = FILE_MAX_ATTEMPTS) {
    const queue = t.engine.queue(FILES_QUEUE);
    const s = t.services;
    const jobs = new FileJobs(t.database.db, t.engine, s.storage, s.chat, processor, maxAttempts);
    const actors = [
      new ReaperActor(queue, jobs, { name: "file-reaper", maxAttempts, everyMs: 100 }),
      new ClaimLoopActor(queue, jobs, { id: "fw-test", leaseMs: 5000, blockMs: 200, handBackOnFailure: true }),
    ];
    for (const a of actors) await a.start();
    try {
      await fn();
    } finally {
      for (const a of actors.reverse()) await a.stop();
    }
  }

  async function uploadPng(): Promise<string> {
    const form = new FormData();
    form.set("conversation_id", conversation);
    form.set("file", new File([await fx.pngWithText(40, 30)], "retry.png"));
    const res = await t.app.handle(new Request("http://localhost/files/upload", { method: "POST", headers: { authorization: `Bearer ${alice.access_token}` }, body: form }));
    expect(res.status).toBe(202);
    return ((await res.json()) as { file_id: string }).file_id;
  }

  async function waitTerminal(id: string) {
    for (let i = 0; i < 200; i++) {
      const s = await call(t.app, "GET", `/files/${id}/status`, { token: alice.access_token });
      if (s.json.status === "completed" || s.json.status === "failed") return s.json;
      await Bun.sleep(100);
    }
    throw new Error("file never reached a terminal status");
  }

  const fileMessages = async (id: string) => {
    const h = await call(t.app, "GET", `/chat/history?conversation_id=${conversation}`, { token: alice.access_token });
    return (h.json.messages as { message_type: string; content: string }[]).filter((m) => m.message_type === "file" && m.content.includes(id));
  };

  test("a transient failure is retried; the file completes and is announced once", async () => {
    let calls = 0;
    const flaky: Processor = async () => {
      if (++calls === 1) throw new Error("disk hiccup");
      return {};
    };
    const id = await uploadPng();
    await withWorker(flaky, async () => {
      expect((await waitTerminal(id)).status).toBe("completed");
    });
    expect(calls).toBe(2);
    expect(await fileMessages(id)).toHaveLength(1);
  }, 30_000);

  /** Uploads a file whose processing always fails and waits for its end; returns its id and the attempts made. */
  async function alwaysFailing(maxAttempts?: number) {
    let calls = 0;
    const broken: Processor = async () => {
      calls++;
      throw new Error("codec exploded");
    };
    const id = await uploadPng();
    let status: { status: string; error: string } | undefined;
    await withWorker(broken, async () => void (status = await waitTerminal(id)), maxAttempts);
    return { id, calls, status: status! };
  }

  test("three failed attempts end the file as failed with the reason, and nothing is posted", async () => {
    const { id, calls, status } = await alwaysFailing();
    expect(status).toMatchObject({ status: "failed", error: "processing failed 3 times (codec exploded)" });
    expect(calls).toBe(3);
    expect(await fileMessages(id)).toHaveLength(0);
    expect(await t.engine.queue(FILES_QUEUE).depth()).toBe(0);
    expect((await call(t.app, "GET", `/files/${id}`, { token: alice.access_token })).status).toBe(404);
  }, 30_000);

  test("the files queue's own attempt limit counts (not the judge's): two attempts, then failed", async () => {
    const { calls, status } = await alwaysFailing(2);
    expect(status).toMatchObject({ status: "failed", error: "processing failed 2 times (codec exploded)" });
    expect(calls).toBe(2);
  }, 30_000);

  test("stopping a worker mid-job hands the job back without using up an attempt", async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    // Waits until the stop aborts it, like a long image job interrupted by a shutdown.
    const slow: Processor = (_kind, _bytes, signal) => new Promise((_, reject) => {
      started();
      signal?.addEventListener("abort", () => reject(new Error("aborted by stop")), { once: true });
    });
    const id = await uploadPng();
    await withWorker(slow, async () => {
      await running;
    });
    // Back in the queue with attempt 1, and the file is still waiting, not failed.
    const claimer = t.engine.queue(FILES_QUEUE).claimer("inspect");
    const job = await claimer.claim(60_000, 1000);
    expect(job).toMatchObject({ id, attempt: 1 });
    await t.engine.queue(FILES_QUEUE).release(job!, "inspect");
    await claimer.close();
    expect((await call(t.app, "GET", `/files/${id}/status`, { token: alice.access_token })).json.status).not.toBe("failed");
    let calls = 0;
    await withWorker(async () => (calls++, {}), async () => {
      expect((await waitTerminal(id)).status).toBe("completed");
    });
    expect(calls).toBe(1);
  }, 30_000);
});
