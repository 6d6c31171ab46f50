/**
 * One blocking claim loop on a job queue, over its own Redis connection
 * (BullMQ's worker loop: a dedicated blocking connection, a bounded block
 * time, backoff, an idempotent close). What a job means is the handler's
 * business: the judge and the file processor are two handlers of this loop.
 *
 * - The lease is renewed every third of its length while the handler runs;
 *   a crash, a kill or a lost lease leaves the job to the reaper.
 * - A handler that throws is a failed attempt: `failed` records why, and the
 *   job is either handed back at once (`handBackOnFailure`: the reaper
 *   requeues it within a sweep) or left to expire; then the loop backs off.
 * - Stopping closes the claimer (an unclaimed job stays queued) and aborts the
 *   handler's signal. A job the handler gives up because of the stop is
 *   released with the same attempt: a stop is not a failed attempt. A handler
 *   that ignores the signal finishes its job first.
 */
import { Actor } from "./kernel";
import { abortableSleep, loopDelay } from "./backoff";
import type { Job, JobClaimer, JobQueue } from "../src/engine/types";
import { log } from "../src/lib/log";

export interface JobHandler {
  /** Resolves once jobs can be run (e.g. the SQL runners are ready); the loop claims nothing before. */
  ready?(signal: AbortSignal): Promise<void>;
  /** Processes a claimed job and records its end; throwing is a failed attempt. */
  run(job: Job, signal: AbortSignal): Promise<void>;
  /** Called after a failed attempt (not after a stop), e.g. to keep the reason for the final error. */
  failed?(job: Job, err: unknown): Promise<void>;
}

export type ClaimLoopOptions = {
  id: string;
  leaseMs: number;
  blockMs?: number;
  handBackOnFailure?: boolean;
};

export class ClaimLoopActor extends Actor<never> {
  private claimer: JobClaimer | null = null;
  private loop?: Promise<void>;

  constructor(private readonly queue: JobQueue, private readonly handler: JobHandler, private readonly opts: ClaimLoopOptions) {
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

  /** Nothing to tell a claim loop: its work is the loop. */
  protected handle() {}

  private async run() {
    let failures = 0;
    // The job leased together with the last one's completion: run at once (the handler was ready a moment ago).
    let next: Job | null = null;
    while (!this.signal.aborted) {
      try {
        if (!next) await this.handler.ready?.(this.signal);
        const job = next ?? (await this.claimer!.claim(this.opts.leaseMs, this.opts.blockMs ?? 2000));
        next = null;
        if (job) next = await this.process(job);
        failures = 0;
      } catch (err) {
        if (this.signal.aborted) break;
        const delay = loopDelay(++failures);
        log.warn({ err, worker: this.opts.id, retryInMs: delay }, "claim loop: claim or job failed; backing off");
        await abortableSleep(delay, this.signal);
      }
    }
    // Stopped while holding a job it never started: hand it back with the same attempt.
    if (next) await this.queue.release(next, this.opts.id).catch(() => {});
  }

  /** Runs the job and completes it; returns the next job, claimed in the same step while the loop runs on. */
  private async process(job: Job): Promise<Job | null> {
    const { id, leaseMs } = this.opts;
    const renew = setInterval(() => void this.queue.extend(job.id, id, leaseMs).catch(() => {}), leaseMs / 3);
    try {
      await this.handler.run(job, this.signal);
    } catch (err) {
      if (this.signal.aborted) {
        await this.queue.release(job, id).catch(() => {}); // else the reaper takes it back, as after a crash
        return null;
      }
      await this.handler.failed?.(job, err).catch(() => {});
      if (this.opts.handBackOnFailure) await this.queue.extend(job.id, id, 0).catch(() => {});
      throw err;
    } finally {
      clearInterval(renew);
    }
    if (this.signal.aborted) {
      await this.queue.complete(job.id, id);
      return null;
    }
    return (await this.queue.completeAndClaim(job.id, id, leaseMs)).next;
  }
}
