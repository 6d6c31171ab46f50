/**
 * The reaper records a dead job's end before it removes the job, so a failure
 * in between (PostgreSQL down while giving up) never loses the job: the next
 * sweep finds it again. On the in-process queue (the contract suite checks
 * the same queue semantics on Redis).
 */
import { describe, expect, test } from "bun:test";
import { ReaperActor } from "../../../actors/reaper.actor";
import { createMemoryEngine } from "../../../src/engine/memory";
import type { Job } from "../../../src/engine/types";

const until = async (cond: () => boolean, ms: number) => {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(10)) if (cond()) return;
  throw new Error("condition not met in time");
};

describe("reaper", () => {
  test("a dead job whose end cannot be recorded stays until a later sweep records it", async () => {
    const queue = createMemoryEngine().queue("reaper-test");
    await queue.push("j1", { n: 1 });
    const claimer = queue.claimer("w1");
    expect((await claimer.claim(1, 0))!.attempt).toBe(1); // a 1 ms lease: expired at once, as after a crash
    await claimer.close();
    const calls: string[] = [];
    let databaseDown = true;
    const reaper = new ReaperActor(queue, {
      giveUp: async (job: Job) => {
        calls.push(job.id);
        if (databaseDown) throw new Error("the database is unavailable");
      },
    }, { name: "reaper", maxAttempts: 1, everyMs: 20 });
    await reaper.start();
    try {
      await until(() => calls.length >= 2, 2_000);
      // Still there: every sweep hands it over again while giving up fails.
      expect((await queue.requeueExpired(Date.now(), 1)).dead.map((j) => j.id)).toEqual(["j1"]);
      databaseDown = false;
      const before = calls.length;
      await until(() => calls.length > before, 2_000);
      await Bun.sleep(60);
      // Recorded, then removed: no further sweep sees it.
      const settled = calls.length;
      expect((await queue.requeueExpired(Date.now(), 1)).dead).toEqual([]);
      await Bun.sleep(60);
      expect(calls.length).toBe(settled);
    } finally {
      await reaper.stop();
    }
  });

  test("the reaper uses the attempt limit it is given", async () => {
    const queue = createMemoryEngine().queue("reaper-limit");
    await queue.push("j2", {});
    const given: string[] = [];
    const reaper = new ReaperActor(queue, { giveUp: async (job: Job) => void given.push(`${job.id}@${job.attempt}`) }, { name: "r", maxAttempts: 2, everyMs: 20 });
    await reaper.start();
    try {
      for (let attempt = 1; attempt <= 2; attempt++) {
        const c = queue.claimer(`w${attempt}`);
        const job = await c.claim(1, 1_000);
        expect(job?.attempt).toBe(attempt);
        await c.close();
      }
      await until(() => given.length === 1, 2_000);
      expect(given).toEqual(["j2@2"]);
    } finally {
      await reaper.stop();
    }
  });
});
