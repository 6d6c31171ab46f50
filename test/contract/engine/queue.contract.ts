/** The JobQueue part of the engine contract (see engine.contract.ts). */
import { describe, expect, test } from "bun:test";
import type { Engine, Job } from "../../../src/engine";

const uid = () => Bun.randomUUIDv7();

export function queueContract(current: () => Engine): void {
  const ids = (jobs: (Job | null)[]) => jobs.map((j) => j?.id ?? null);

  describe("job queue", () => {
    test("FIFO claims, complete once, result written with completion", async () => {
      const q = current().queue("problems");
      expect(current().queue("problems")).toBe(q);
      const [j1, j2] = [uid(), uid()];
      await q.push(j1, { sql: "select 1" });
      await q.push(j2, { sql: "select 2" });
      expect(await q.depth()).toBe(2);
      const w = q.claimer("w1");
      const a = await w.claim(60_000, 0);
      expect(a).toMatchObject({ id: j1, data: { sql: "select 1" }, attempt: 1 });
      expect(a!.enqueued_at).toBeGreaterThan(Date.now() - 10_000);
      expect(ids([await w.claim(60_000, 0)])).toEqual([j2]);
      expect(await w.claim(60_000, 0)).toBeNull();
      expect(await q.complete(j1, "w2", { json: "{}", ttlSec: 60 })).toBe(false); // not the owner
      expect(await current().results.get(j1)).toBeNull();
      expect(await q.complete(j1, "w1", { json: '{"ok":true}', ttlSec: 60 })).toBe(true);
      expect(await q.complete(j1, "w1")).toBe(false);
      expect(await current().results.get(j1)).toBe('{"ok":true}');
      expect(await q.complete(j2, "w1")).toBe(true);
      await w.close();
    });

    test("an expired lease goes back first in line; the old owner can no longer extend or complete", async () => {
      const q = current().queue(`q${uid()}`);
      const [j, later] = [uid(), uid()];
      await q.push(j, {});
      const w1 = q.claimer("w1");
      expect((await w1.claim(1_000, 0))!.id).toBe(j);
      await q.push(later, {});
      expect(await q.requeueExpired(Date.now(), 3)).toEqual({ requeued: [], dead: [] });
      expect(await q.extend(j, "w1", 1_000)).toBe(true);
      expect(await q.requeueExpired(Date.now() + 5_000, 3)).toEqual({ requeued: [j], dead: [] });
      const w2 = q.claimer("w2");
      expect(await w2.claim(60_000, 0)).toMatchObject({ id: j, attempt: 2 });
      expect(await q.extend(j, "w1", 60_000)).toBe(false);
      expect(await q.complete(j, "w1")).toBe(false);
      expect(await q.extend(j, "w2", 60_000)).toBe(true);
      expect(await q.complete(j, "w2")).toBe(true);
      expect(ids([await w2.claim(60_000, 0)])).toEqual([later]);
      await w1.close();
      await w2.close();
    });

    test("many concurrent claimers: every job handed out exactly once", async () => {
      const q = current().queue(`q${uid()}`);
      const jobs = Array.from({ length: 40 }, uid);
      for (const id of jobs) await q.push(id, { id });
      const claimers = Array.from({ length: 8 }, (_, i) => q.claimer(`w${i}`));
      const got: string[][] = await Promise.all(
        claimers.map(async (c) => {
          const mine: string[] = [];
          for (let job = await c.claim(60_000, 50); job; job = await c.claim(60_000, 50)) mine.push(job.id);
          return mine;
        }),
      );
      const all = got.flat();
      expect(all.length).toBe(40);
      expect(new Set(all)).toEqual(new Set(jobs));
      expect(await q.depth()).toBe(0);
      await Promise.all(claimers.map((c) => c.close()));
    });

    test("completeAndClaim finishes a job and leases the next one in the same step", async () => {
      const q = current().queue(`q${uid()}`);
      const [a, b] = [uid(), uid()];
      // Data with an "attempt" key and big numbers of its own must come back exactly as pushed.
      const tricky = { attempt: 99, n: 1764650000000.123, big: 12345678901234567, nested: { attempt: "x", data: [1, "2"] }, s: ',"attempt":7' };
      await q.push(a, { k: 1 });
      await q.push(b, tricky);
      const w = q.claimer("w1");
      const first = await w.claim(60_000, 0);
      expect(first).toMatchObject({ id: a, data: { k: 1 }, attempt: 1 });
      const step = await q.completeAndClaim(a, "w1", 60_000);
      expect(step.completed).toBe(true);
      expect(step.next).toMatchObject({ id: b, attempt: 1 });
      expect(step.next!.data).toEqual(tricky);
      expect(await q.complete(a, "w1")).toBe(false); // completed exactly once
      // The next job is really leased to w1: another worker cannot complete it, and it expires like any lease.
      expect(await q.complete(b, "w2")).toBe(false);
      expect(await q.extend(b, "w1", 60_000)).toBe(true);
      expect(await q.requeueExpired(Date.now() + 120_000, 1)).toEqual({ requeued: [], dead: [expect.objectContaining({ id: b, data: tricky })] });
      expect(await q.discard(b, Date.now() + 120_000)).toBe(true);
      await q.push(a, { again: true });
      const w2 = q.claimer("w2");
      const c = await w2.claim(60_000, 0);
      // Nothing waits: the job completes and no next one is handed out.
      expect(await q.completeAndClaim(c!.id, "w2", 60_000)).toEqual({ completed: true, next: null });
      expect(await q.depth()).toBe(0);
      await w.close();
      await w2.close();
    });

    test("completeAndClaim after a lost lease completes nothing but still hands out the next job", async () => {
      const q = current().queue(`q${uid()}`);
      const [a, b] = [uid(), uid()];
      await q.push(a, {});
      const w1 = q.claimer("w1");
      await w1.claim(1_000, 0);
      expect(await q.requeueExpired(Date.now() + 5_000, 3)).toEqual({ requeued: [a], dead: [] });
      await q.push(b, {});
      // `a` (attempt 2) is first in line again; w1's stale completion must not end it.
      const step = await q.completeAndClaim(a, "w1", 60_000);
      expect(step.completed).toBe(false);
      expect(step.next).toMatchObject({ id: a, attempt: 2 });
      expect((await q.completeAndClaim(a, "w1", 60_000)).next).toMatchObject({ id: b, attempt: 1 });
      expect(await q.complete(b, "w1")).toBe(true);
      await w1.close();
    });

    test("a worker that dies after claiming loses nothing: requeued with attempt+1, dead after max attempts", async () => {
      const q = current().queue(`q${uid()}`);
      const j = uid();
      await q.push(j, { n: 1 });
      const w1 = q.claimer("w1");
      expect((await w1.claim(500, 0))!.attempt).toBe(1);
      await w1.close(); // dies without completing
      expect(await q.requeueExpired(Date.now() + 1_000, 2)).toEqual({ requeued: [j], dead: [] });
      const w2 = q.claimer("w2");
      expect(await w2.claim(500, 0)).toMatchObject({ id: j, attempt: 2, data: { n: 1 } });
      await w2.close();
      const { requeued, dead } = await q.requeueExpired(Date.now() + 1_000, 2);
      expect(requeued).toEqual([]);
      expect(dead).toMatchObject([{ id: j, attempt: 2, data: { n: 1 } }]);
      expect(await q.depth()).toBe(0);
      // Until the caller recorded its end and discarded it, a dead job is returned again: never lost in between.
      expect((await q.requeueExpired(Date.now() + 5_000, 2)).dead.map((d) => d.id)).toEqual([j]);
      expect(await q.discard(j, Date.now() + 5_000)).toBe(true);
      expect(await q.discard(j, Date.now() + 5_000)).toBe(false);
      expect(await q.requeueExpired(Date.now() + 10_000, 2)).toEqual({ requeued: [], dead: [] });
    });

    test("release hands a job back with the same attempt, only for the worker holding it", async () => {
      const q = current().queue(`q${uid()}`);
      const first = uid();
      const second = uid();
      await q.push(first, { n: 1 });
      await q.push(second, { n: 2 });
      const w1 = q.claimer("w1");
      const job = (await w1.claim(60_000, 0))!;
      expect(job.id).toBe(first);
      expect(await q.release(job, "someone-else")).toBe(false);
      expect(await q.release(job, "w1")).toBe(true);
      expect(await q.release(job, "w1")).toBe(false);
      // Back at the front of the line, attempt unchanged, lease gone (the reaper has nothing to requeue).
      const w2 = q.claimer("w2");
      expect(await w2.claim(60_000, 0)).toMatchObject({ id: first, attempt: 1, data: { n: 1 } });
      expect(await q.requeueExpired(Date.now() + 120_000, 3)).toEqual({ requeued: [first], dead: [] });
      await Promise.all([w1.close(), w2.close()]);
    });

    test("a blocked claim wakes on push; closing a claimer ends its pending claim with null", async () => {
      const q = current().queue(`q${uid()}`);
      const w = q.claimer("w");
      const started = Date.now();
      const pending = w.claim(60_000, 3_000);
      await Bun.sleep(50);
      const j = uid();
      await q.push(j, {});
      expect((await pending)?.id).toBe(j);
      expect(Date.now() - started).toBeLessThan(1_500);
      const idle = q.claimer("idle");
      const waiting = idle.claim(60_000, 3_000);
      await Bun.sleep(50);
      await idle.close();
      await idle.close();
      expect(await waiting).toBeNull();
      expect(Date.now() - started).toBeLessThan(2_500);
      await w.close();
    });
  });
}
