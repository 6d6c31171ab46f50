/**
 * Huddle's queue under the no-op benchmark: `concurrency` claimers (each its
 * own blocking connection, as the judge's workers) loop claim -> complete
 * (completeAndClaim while jobs wait).
 * Run by queue.ts as `bun bench/scenarios/queue-huddle.ts '<json>'`.
 */
import { createEngine } from "../../src/engine";
import { main, type QueueOpts, type QueueSide } from "../lib/queue-bench";

async function huddleQueue(o: QueueOpts): Promise<QueueSide> {
  const engine = await createEngine({ redisUrl: o.redisUrl });
  const queue = engine.queue(o.name);
  let stopped = false;
  const loops: Promise<void>[] = [];
  return {
    push: (i, t) => queue.push(`job-${i}`, { t }),
    consume(done) {
      for (let w = 0; w < o.concurrency; w++) {
        const workerId = `bench-worker-${w}`;
        const claimer = queue.claimer(workerId);
        loops.push((async () => {
          // As the claim loop actor does: completing a job claims the next in the same round trip.
          let job: Awaited<ReturnType<typeof claimer.claim>> = null;
          while (!stopped) {
            job ??= await claimer.claim(30_000, 200);
            if (!job) continue;
            const { next } = await queue.completeAndClaim(job.id, workerId, 30_000);
            done(job.data.t as number);
            job = next;
          }
          if (job) await queue.release(job, workerId);
          await claimer.close();
        })());
      }
    },
    async close() {
      stopped = true;
      await Promise.all(loops);
      await engine.close();
    },
  };
}

if (import.meta.main) await main(huddleQueue);
