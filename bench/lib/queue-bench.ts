/**
 * The shared shape of the no-op queue benchmark, so Huddle's queue and
 * BullMQ run the very same loop: a producer keeps `inflight` pushes in flight
 * until `jobs` were pushed, while `concurrency` consumers take and complete
 * them with a runner that returns at once. Each side runs in its own process
 * (`bun <script> '<json opts>'`) and prints one JSON line.
 */
import { Recorder } from "./stats";

export type QueueOpts = { redisUrl: string; jobs: number; concurrency: number; inflight: number; name: string };
/** cpuPct: this process (producer + consumers) in % of one core. */
export type QueueResult = { jobs: number; seconds: number; jobsPerSec: number; pushPerSec: number; cpuPct: number; latency: ReturnType<Recorder["summary"]> };

export type QueueSide = {
  push(i: number, t: number): Promise<unknown>;
  /** Starts the consumers; `done(t)` is called with the push time of each completed job. */
  consume(done: (t: number) => void): void;
  close(): Promise<void>;
};

export async function runQueueBench(o: QueueOpts, side: QueueSide): Promise<QueueResult> {
  const lat = new Recorder();
  let completed = 0;
  let finish!: () => void;
  const allDone = new Promise<void>((r) => (finish = r));
  side.consume((t) => {
    lat.add(performance.now() - t);
    if (++completed === o.jobs) finish();
  });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let next = 0;
  const producer = async () => {
    while (next < o.jobs) {
      const i = next++;
      await side.push(i, performance.now());
    }
  };
  await Promise.all(Array.from({ length: o.inflight }, producer));
  const pushSecs = (performance.now() - t0) / 1000;
  const timeout = Bun.sleep(120_000).then(() => {
    throw new Error(`only ${completed} of ${o.jobs} jobs completed in 120 s`);
  });
  await Promise.race([allDone, timeout]);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await side.close();
  const cpuPct = Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100);
  return { jobs: o.jobs, seconds, jobsPerSec: o.jobs / seconds, pushPerSec: o.jobs / pushSecs, cpuPct, latency: lat.summary() };
}

/** Script entry: parse argv, run, print, exit (also when something hangs). */
export async function main(make: (o: QueueOpts) => Promise<QueueSide>) {
  const o = JSON.parse(process.argv[2]!) as QueueOpts;
  try {
    console.log(JSON.stringify(await runQueueBench(o, await make(o))));
    process.exit(0);
  } catch (err) {
    console.log(JSON.stringify({ error: String((err as Error).stack ?? err) }));
    process.exit(1);
  }
}
