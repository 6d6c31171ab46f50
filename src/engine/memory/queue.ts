/**
 * In-process job queue; see the port in ../types.ts for the guarantees. Each
 * state change runs synchronously, so a job is always in exactly one place:
 * waiting or leased. There is no holding list to strand jobs in.
 */
import type { Job, JobClaimer, JobQueue } from "../types";
import type { ExpiringMap } from "./misc";
import { Signal } from "./signal";

const MAX_BLOCK_MS = 30_000;

type Lease = { job: Job; worker: string; deadline: number; startedAt: number };

/** Deep copy, so a worker mutating its job's data cannot change what a requeue hands out. */
const copyJob = (job: Job): Job => structuredClone(job);

export class MemoryJobQueue implements JobQueue {
  /** Index 0 is the left end: push adds there, claims take from the right. */
  private readonly waiting: Job[] = [];
  private readonly leases = new Map<string, Lease>();
  private readonly pushed = new Signal();
  private readonly claimers = new Set<MemoryClaimer>();

  constructor(
    readonly name: string,
    /** The result cache of this queue, keyed by job id. */
    private readonly results: ExpiringMap<string>,
  ) {}

  async push(id: string, data: Record<string, unknown>): Promise<void> {
    this.waiting.unshift(copyJob({ id, data, attempt: 1, enqueued_at: Date.now() }));
    this.pushed.notifyAll();
  }

  async depth(): Promise<number> {
    return this.waiting.length;
  }

  claimer(workerId: string): JobClaimer {
    const claimer = new MemoryClaimer(workerId, this, this.pushed, () => this.claimers.delete(claimer));
    this.claimers.add(claimer);
    return claimer;
  }

  /** Takes the oldest job and leases it, or null when none waits. */
  takeNow(workerId: string, leaseMs: number): Job | null {
    const job = this.waiting.pop();
    if (!job) return null;
    const now = Date.now();
    this.leases.set(job.id, { job, worker: workerId, deadline: now + leaseMs, startedAt: now });
    return copyJob(job);
  }

  async extend(jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
    const lease = this.leases.get(jobId);
    if (!lease || lease.worker !== workerId) return false;
    lease.deadline = Date.now() + leaseMs;
    return true;
  }

  async complete(jobId: string, workerId: string, result?: { json: string; ttlSec: number }): Promise<boolean> {
    const lease = this.leases.get(jobId);
    if (!lease || lease.worker !== workerId) return false;
    this.leases.delete(jobId);
    if (result) this.results.set(jobId, result.json, result.ttlSec * 1000);
    return true;
  }

  async completeAndClaim(jobId: string, workerId: string, leaseMs: number): Promise<{ completed: boolean; next: Job | null }> {
    const completed = await this.complete(jobId, workerId);
    return { completed, next: this.takeNow(workerId, leaseMs) };
  }

  async release(job: Job, workerId: string): Promise<boolean> {
    const lease = this.leases.get(job.id);
    if (!lease || lease.worker !== workerId) return false;
    this.leases.delete(job.id);
    this.waiting.push(copyJob(lease.job));
    this.pushed.notifyAll();
    return true;
  }

  async discard(jobId: string, now: number): Promise<boolean> {
    const lease = this.leases.get(jobId);
    if (!lease || lease.deadline > now) return false;
    this.leases.delete(jobId);
    return true;
  }

  async requeueExpired(now: number, maxAttempts: number): Promise<{ requeued: string[]; dead: Job[] }> {
    const requeued: string[] = [];
    const dead: Job[] = [];
    for (const [id, lease] of this.leases) {
      if (lease.deadline > now) continue;
      // A dead job stays leased (expired) until the caller recorded its end and calls discard().
      if (lease.job.attempt >= maxAttempts) {
        dead.push(copyJob(lease.job));
        continue;
      }
      this.leases.delete(id);
      this.waiting.push({ ...lease.job, attempt: lease.job.attempt + 1 });
      requeued.push(id);
    }
    if (requeued.length > 0) this.pushed.notifyAll();
    return { requeued, dead };
  }

  close(): void {
    for (const claimer of [...this.claimers]) void claimer.close();
  }
}

class MemoryClaimer implements JobClaimer {
  private closed = false;

  constructor(
    readonly workerId: string,
    private readonly queue: MemoryJobQueue,
    private readonly pushed: Signal,
    private readonly onClose: () => void,
  ) {}

  async claim(leaseMs: number, blockMs: number): Promise<Job | null> {
    const deadline = Date.now() + Math.min(Math.max(0, blockMs), MAX_BLOCK_MS);
    for (;;) {
      if (this.closed) return null;
      const job = this.queue.takeNow(this.workerId, leaseMs);
      const left = deadline - Date.now();
      if (job || left <= 0) return job;
      await this.pushed.wait(left);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    // Wake a pending claim so it sees `closed` and returns null.
    this.pushed.notifyAll();
  }
}
