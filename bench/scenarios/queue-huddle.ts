/**
 * Huddle's queue under the no-op benchmark: `concurrency` claimers (each its
 * own blocking connection, as the judge's workers) loop claim -> complete.
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
          while (!stopped) {
            const job = await claimer.claim(30_000, 200);
            if (!job) continue;
            await queue.complete(job.id, workerId);
            done(job.data.t as number);
          }
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
