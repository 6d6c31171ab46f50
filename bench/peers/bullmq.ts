/**
 * The queue peer: BullMQ 6 on the same Redis, one Worker with the same
 * concurrency and a processor that returns at once. Jobs are removed on
 * completion (Huddle's queue keeps nothing for a finished job either).
 * Run by bench/scenarios/queue.ts as `bun bench/peers/bullmq.ts '<json>'`.
 */
import { Queue, Worker } from "bullmq";
import { main, type QueueOpts, type QueueSide } from "../lib/queue-bench";

async function bullmq(o: QueueOpts): Promise<QueueSide> {
  const u = new URL(o.redisUrl);
  const connection = { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
  const queue = new Queue(o.name, { connection });
  await queue.waitUntilReady();
  let worker: Worker | null = null;
  return {
    push: (i, t) => queue.add("noop", { i, t }, { removeOnComplete: true, removeOnFail: true }),
    consume(done) {
      worker = new Worker(o.name, async () => undefined, { connection, concurrency: o.concurrency });
      worker.on("completed", (job) => done(job.data.t));
    },
    async close() {
      await worker?.close();
      await queue.close();
    },
  };
}

if (import.meta.main) await main(bullmq);
