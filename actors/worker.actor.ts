/**
 * A judge worker: a claim loop (see ClaimLoopActor) on problems:queue that
 * runs each submission in the SQL runner pool. A failed run leaves the job to
 * the reaper, which puts it back (at most 3 attempts). Stopping lets the
 * current job finish; an unclaimed job stays queued.
 */
import { ClaimLoopActor, type ClaimLoopOptions, type JobOutcome } from "./claim-loop.actor";
import type { Job, JobQueue } from "../src/engine/types";
import type { SubmissionJobs } from "../src/modules/problems/jobs";
import type { Sandbox } from "./sql-runner/types";

export type WorkerOptions = ClaimLoopOptions;

export class WorkerActor extends ClaimLoopActor {
  constructor(queue: JobQueue, private readonly jobs: SubmissionJobs, private readonly sandbox: () => Sandbox | undefined, opts: WorkerOptions) {
    super(queue, opts);
  }

  protected override canClaim() {
    return this.sandbox() !== undefined;
  }

  protected async work(job: Job): Promise<JobOutcome> {
    const sandbox = this.sandbox();
    if (!sandbox) throw new Error("the SQL runner pool stopped after the job was claimed");
    await this.jobs.run(job, sandbox);
    return "complete";
  }
}
