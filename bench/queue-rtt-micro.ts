/**
 * Queue round-trip micro-benchmark (not part of `bun run bench`): one worker
 * drains JOBS waiting no-op jobs with `completeAndClaim` (one script per job,
 * as the claim loop does on a busy queue), against the bare round trip of
 * the same connection kind (PING, and EVALSHA of `return 1`). At
 * concurrency 1 the queue can go no faster than one round trip per job;
 * compare with `redis-benchmark -c 1 -t ping`. Uses its own queue name on
 * the given Redis and deletes that queue's keys at the end.
 *
 *   bun bench/queue-rtt-micro.ts --redis=redis://127.0.0.1:6379 [--jobs=30000] [--rounds=3]
 */
import Redis from "ioredis";
import { parseArgs } from "node:util";
import { createEngine } from "../src/engine";

const { values } = parseArgs({ options: { redis: { type: "string" }, jobs: { type: "string" }, rounds: { type: "string" } } });
if (!values.redis) throw new Error("--redis=redis://host:port is required");
const JOBS = Number(values.jobs ?? 30_000), ROUNDS = Number(values.rounds ?? 3);
const name = `rtt-micro-${process.pid}`;
const engine = await createEngine({ redisUrl: values.redis });
const queue = engine.queue(name);
const raw = new Redis(values.redis);
const noop = (await raw.script("LOAD", "return 1")) as string;

const perCall = (label: string, n: number, ms: number) =>
  console.log(`${label.padEnd(18)} ${((ms * 1000) / n).toFixed(1).padStart(6)} µs per call, ${Math.round((n / ms) * 1000)}/s`);

async function timed(n: number, call: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await call();
  return performance.now() - t0;
}

try {
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < JOBS; i++) await queue.push(`job-${round}-${i}`, {});
    const claimer = queue.claimer("w0");
    let job = await claimer.claim(30_000, 200);
    let done = 0;
    const t0 = performance.now();
    while (job) {
      job = (await queue.completeAndClaim(job.id, "w0", 30_000)).next;
      done++;
    }
    perCall("completeAndClaim", done, performance.now() - t0);
    await claimer.close();
    perCall("PING", JOBS, await timed(JOBS, () => raw.ping()));
    perCall("EVALSHA return 1", JOBS, await timed(JOBS, () => raw.evalsha(noop, 0)));
  }
} finally {
  // SCAN, not KEYS: the Redis given may be a shared one with many keys.
  for await (const keys of raw.scanStream({ match: `{${name}}:*`, count: 1000 }) as AsyncIterable<string[]>) {
    if (keys.length) await raw.del(...keys);
  }
  raw.disconnect();
  await engine.close();
}
