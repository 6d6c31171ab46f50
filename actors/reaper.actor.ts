/**
 * Every second: jobs whose lease expired (their worker died or stalled) go
 * back to their queue; a job that already used its attempts is given up (a
 * submission ends as internal_error, a file as failed). Its end is recorded
 * first and only then is it removed from the queue, so a failure in between
 * (PostgreSQL down) leaves it for the next sweep instead of losing it. One
 * reaper per queue on every worker-role instance; the queue scripts make
 * concurrent reapers safe.
 */
import { Actor } from "./kernel";
import type { Job, JobQueue } from "../src/engine/types";
import { log } from "../src/lib/log";

type Msg = { type: "sweep" };

export interface DeadJobHandler {
  /** Records the end of a job that used up its attempts; idempotent (a later sweep may call it again). */
  giveUp(job: Job): Promise<void>;
}

export type ReaperOptions = { name: string; maxAttempts: number; everyMs?: number };

export class ReaperActor extends Actor<Msg> {
  private timer?: ReturnType<typeof setInterval>;

  constructor(private readonly queue: JobQueue, private readonly handler: DeadJobHandler, private readonly opts: ReaperOptions) {
    super({ name: opts.name, mailbox: { capacity: 2, overflow: "drop-oldest" } });
  }

  protected override onStart() {
    this.timer = setInterval(() => this.accepting && this.tell({ type: "sweep" }), this.opts.everyMs ?? 1000);
    this.timer.unref?.();
  }

  protected override onStop() {
    clearInterval(this.timer);
  }

  protected async handle() {
    let res;
    try {
      res = await this.queue.requeueExpired(Date.now(), this.opts.maxAttempts);
    } catch {
      return; // Redis down: the next sweep retries
    }
    if (res.requeued.length) log.warn({ queue: this.queue.name, jobs: res.requeued }, "reaper: expired leases returned to the queue");
    for (const job of res.dead) {
      try {
        await this.handler.giveUp(job);
        await this.queue.discard(job.id, Date.now());
      } catch (err) {
        log.warn({ err, queue: this.queue.name, job: job.id }, "reaper: the end of a dead job was not recorded; retried on the next sweep");
      }
    }
  }
}
