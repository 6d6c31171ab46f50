/**
 * The shared body of the queue workers (judge and files): one blocking claim
 * loop over its own connection, the lease renewed every third of its length
 * while a job runs, and errors that back off with jitter and retry. A crash,
 * a kill or a lost lease leaves the job to the reaper. Subclasses say only
 * how to run one job and what to do with its lease afterwards.
 */
import { Actor } from "./kernel/index.ts";
import type { Job, JobClaimer, JobQueue } from "../src/engine/types";
import { log } from "../src/lib/log";

export type ClaimLoopOptions = { id: string; leaseMs: number; blockMs?: number };

/** "complete": done, remove the job; "hand-back": cut the lease to now so the reaper retries it. */
export type JobOutcome = "complete" | "hand-back";

export abstract class ClaimLoopActor extends Actor<never> {
  private claimer: JobClaimer | null = null;
  private loop?: Promise<void>;

  constructor(protected readonly queue: JobQueue, protected readonly opts: ClaimLoopOptions) {
    super({ name: opts.id, mailbox: { capacity: 1, overflow: "reject" } });
  }

  /** Runs one claimed job; a throw is logged, backed off, and leaves the job to the reaper. */
  protected abstract work(job: Job): Promise<JobOutcome>;

  /** False while a dependency (the runner pool) is restarting: the loop waits instead of claiming. */
  protected canClaim(): boolean {
    return true;
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
        if (!this.canClaim()) {
          await Bun.sleep(200);
          continue;
        }
        const job = await this.claimer!.claim(this.opts.leaseMs, this.opts.blockMs ?? 2000);
        if (!job) continue;
        const renew = setInterval(() => {
          void this.queue.extend(job.id, this.opts.id, this.opts.leaseMs).catch(() => {});
        }, this.opts.leaseMs / 3);
        let outcome: JobOutcome;
        try {
          outcome = await this.work(job);
        } finally {
          clearInterval(renew);
        }
        if (outcome === "complete") await this.queue.complete(job.id, this.opts.id);
        else await this.queue.extend(job.id, this.opts.id, 0);
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
