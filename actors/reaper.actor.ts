/**
 * Every second: jobs whose lease expired (their worker died or stalled) go
 * back to their queue; a job that already used its attempts is given up
 * (a submission ends as internal_error, a file as failed). One reaper per
 * queue on every worker-role instance; the queue script makes concurrent
 * reapers safe.
 */
import { Actor } from "./kernel/index.ts";
import type { JobQueue } from "../src/engine/types";
import { MAX_ATTEMPTS } from "../src/modules/problems/jobs";
import { log } from "../src/lib/log";

type Msg = { type: "sweep" };

export class ReaperActor extends Actor<Msg> {
  private timer?: ReturnType<typeof setInterval>;

  constructor(private readonly queue: JobQueue, private readonly jobs: { giveUp(jobId: string): Promise<void> }, private readonly everyMs = 1000, name = "reaper") {
    super({ name, mailbox: { capacity: 2, overflow: "drop-oldest" } });
  }

  protected override onStart() {
    this.timer = setInterval(() => this.accepting && this.tell({ type: "sweep" }), this.everyMs);
    this.timer.unref?.();
  }

  protected override onStop() {
    clearInterval(this.timer);
  }

  protected async handle() {
    let res;
    try {
      res = await this.queue.requeueExpired(Date.now(), MAX_ATTEMPTS);
    } catch {
      return; // Redis down: the next sweep retries
    }
    if (res.requeued.length) log.warn({ queue: this.queue.name, jobs: res.requeued }, "reaper: expired leases returned to the queue");
    for (const job of res.dead) await this.jobs.giveUp(job.id);
  }
}
