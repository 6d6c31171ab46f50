/**
 * One blocking claim loop on problems:queue over its own Redis connection.
 * The lease is renewed while the job runs; a crash, a kill or a lost lease
 * leaves the job to the reaper, which puts it back (at most 3 attempts).
 * Stopping lets the current job finish; an unclaimed job stays queued.
 */
import { Actor } from "./kernel/index.ts";
import type { JobClaimer, JobQueue } from "../src/engine/types";
import type { SubmissionJobs } from "../src/modules/problems/jobs";
import type { Sandbox } from "./sql-runner/types";
import { log } from "../src/lib/log";

export type WorkerOptions = { id: string; leaseMs: number; blockMs?: number };

export class WorkerActor extends Actor<never> {
  private claimer: JobClaimer | null = null;
  private loop?: Promise<void>;

  constructor(private readonly queue: JobQueue, private readonly jobs: SubmissionJobs, private readonly sandbox: () => Sandbox | undefined, private readonly opts: WorkerOptions) {
    super({ name: opts.id, mailbox: { capacity: 1, overflow: "reject" } });
  }

  protected override onStart() {
    this.claimer = this.queue.claimer(this.opts.id);
    this.loop = this.run();
  }

  protected override async onStop() {
    await this.claimer?.close().catch(() => {});
    await this.loop;
  }

  /** Nothing to tell a worker: its work is the claim loop. */
  protected handle() {}

  private async run() {
    let backoff = 100;
    while (!this.signal.aborted) {
      try {
        const sandbox = this.sandbox();
        if (!sandbox) {
          await Bun.sleep(200); // the runner pool is (re)starting
          continue;
        }
        const job = await this.claimer!.claim(this.opts.leaseMs, this.opts.blockMs ?? 2000);
        if (!job) continue;
        const renew = setInterval(() => {
          void this.queue.extend(job.id, this.opts.id, this.opts.leaseMs).catch(() => {});
        }, this.opts.leaseMs / 3);
        try {
          await this.jobs.run(job, sandbox);
        } finally {
          clearInterval(renew);
        }
        await this.queue.complete(job.id, this.opts.id);
        backoff = 100;
      } catch (err) {
        if (this.signal.aborted) return;
        log.warn({ err, worker: this.opts.id, retryInMs: backoff }, "worker: claim or job failed; backing off");
        await Bun.sleep(backoff + Math.random() * backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }
}
