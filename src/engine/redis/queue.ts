/**
 * Reliable job queue on Redis; see the port in ../types.ts for the guarantees.
 *
 * Claim while jobs wait = one script (CLAIM_NOW) that pops the oldest job and
 * records the lease + processing hash; after a job, COMPLETE_AND_CLAIM finishes
 * it and takes the next in the same script. So a busy worker costs one round
 * trip per job (plus the producer's LPUSH).
 *
 * Claim on an empty queue = BLMOVE from the queue's right into the holding
 * list (a script cannot block), then one script that removes it from the
 * holding list and records the lease. A worker dying in between leaves the
 * job in the holding list, where the reaper finds it; if the reaper took it
 * back first, the script finds nothing to remove and the worker gets no job.
 */
import type Redis from "ioredis";
import type { Job, JobClaimer, JobQueue } from "../types";
import { closeQuietly, guard, settle } from "./connection";
import * as keys from "./keys";
import { MAX_BLOCK_MS } from "./outbox";
import { CLAIM_NOW, COMPLETE, COMPLETE_AND_CLAIM, EXTEND, LEASE, RECOVER, RELEASE, REQUEUE } from "./queue-scripts";

const REAP_BATCH = 1000;
export const DEFAULT_STRANDED_AFTER_MS = 5_000;

export function encodeJob(job: Job): string {
  return JSON.stringify({ id: job.id, data: job.data, attempt: job.attempt, enqueued_at: job.enqueued_at });
}

export function decodeJob(raw: string): Job | null {
  try {
    const v = JSON.parse(raw) as Job;
    if (typeof v?.id !== "string" || typeof v.attempt !== "number") return null;
    return { id: v.id, data: v.data ?? {}, attempt: v.attempt, enqueued_at: v.enqueued_at };
  } catch {
    return null;
  }
}

export class RedisJobQueue implements JobQueue {
  private readonly claimers = new Set<RedisClaimer>();

  constructor(
    readonly name: string,
    private readonly conn: Redis,
    private readonly openBlocking: (name: string) => Redis,
    private readonly connectTimeoutMs: number,
  ) {}

  async push(id: string, data: Record<string, unknown>): Promise<void> {
    const raw = encodeJob({ id, data, attempt: 1, enqueued_at: Date.now() });
    await guard(this.conn, (c) => c.lpush(keys.jobQueue(this.name), raw));
  }

  depth(): Promise<number> {
    return guard(this.conn, (c) => c.llen(keys.jobQueue(this.name)));
  }

  claimer(workerId: string): JobClaimer {
    const conn = this.openBlocking(`${this.name}-${workerId}`);
    const claimer = new RedisClaimer(this.name, workerId, conn, this.connectTimeoutMs, () => this.claimers.delete(claimer));
    this.claimers.add(claimer);
    return claimer;
  }

  async extend(jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
    const k = [keys.jobProcessing(this.name, jobId), keys.jobLeases(this.name)];
    return (await guard(this.conn, (c) => EXTEND.run(c, k, [workerId, Date.now() + leaseMs, jobId]))) === 1;
  }

  async complete(jobId: string, workerId: string, result?: { json: string; ttlSec: number }): Promise<boolean> {
    const k = [keys.jobProcessing(this.name, jobId), keys.jobLeases(this.name), keys.jobResult(this.name, jobId)];
    const args: (string | number)[] = [workerId, jobId];
    if (result) args.push(result.json, result.ttlSec);
    return (await guard(this.conn, (c) => COMPLETE.run(c, k, args))) === 1;
  }

  async completeAndClaim(jobId: string, workerId: string, leaseMs: number): Promise<{ completed: boolean; next: Job | null }> {
    const now = Date.now();
    const k = [keys.jobQueue(this.name), keys.jobLeases(this.name), keys.jobProcessing(this.name, jobId)];
    const args = [keys.jobProcessing(this.name, ""), workerId, now + leaseMs, now, jobId];
    const [completed, raw] = (await guard(this.conn, (c) => COMPLETE_AND_CLAIM.run(c, k, args))) as [number, string];
    return { completed: completed === 1, next: raw ? decodeJob(raw) : null };
  }

  async release(job: Job, workerId: string): Promise<boolean> {
    const k = [keys.jobProcessing(this.name, job.id), keys.jobLeases(this.name), keys.jobQueue(this.name)];
    return (await guard(this.conn, (c) => RELEASE.run(c, k, [workerId, job.id, encodeJob(job)]))) === 1;
  }

  async discard(jobId: string, now: number): Promise<boolean> {
    const processing = keys.jobProcessing(this.name, jobId);
    const h = await guard(this.conn, (c) => c.hgetall(processing));
    if (!h.worker) return false;
    const args = [jobId, now, h.worker, h.attempt!, ""];
    return (await guard(this.conn, (c) => REQUEUE.run(c, [processing, keys.jobLeases(this.name), keys.jobQueue(this.name)], args))) === 1;
  }

  async requeueExpired(now: number, maxAttempts: number, opts: { strandedAfterMs?: number } = {}) {
    const requeued: string[] = [];
    const dead: Job[] = [];
    const leases = keys.jobLeases(this.name);
    const queue = keys.jobQueue(this.name);
    const expired = await guard(this.conn, (c) => c.zrangebyscore(leases, "-inf", now, "LIMIT", 0, REAP_BATCH));
    for (const id of expired) {
      const processing = keys.jobProcessing(this.name, id);
      const h = await guard(this.conn, (c) => c.hgetall(processing));
      if (!h.worker) {
        await guard(this.conn, (c) => REQUEUE.run(c, [processing, leases, queue], [id, now, "", "", ""]));
        continue;
      }
      const job: Job = { id, data: safeParse(h.data), attempt: Number(h.attempt), enqueued_at: Number(h.enqueued_at) };
      // A dead job stays put until the caller recorded its end and calls discard().
      if (job.attempt >= maxAttempts) {
        dead.push(job);
        continue;
      }
      const args = [id, now, h.worker, h.attempt!, encodeJob({ ...job, attempt: job.attempt + 1 })];
      if ((await guard(this.conn, (c) => REQUEUE.run(c, [processing, leases, queue], args))) === 1) requeued.push(id);
    }
    await this.recoverStranded(now, opts.strandedAfterMs ?? DEFAULT_STRANDED_AFTER_MS, requeued);
    return { requeued, dead };
  }

  private async recoverStranded(now: number, graceMs: number, requeued: string[]): Promise<void> {
    const holding = keys.jobHolding(this.name);
    const scriptKeys = [holding, keys.jobHoldingSeen(this.name), keys.jobQueue(this.name)];
    const elements = await guard(this.conn, (c) => c.lrange(holding, 0, REAP_BATCH - 1));
    for (const raw of new Set(elements)) {
      const moved = await guard(this.conn, (c) => RECOVER.run(c, scriptKeys, [raw, now, graceMs]));
      if (moved === 1) requeued.push(decodeJob(raw)?.id ?? raw);
    }
  }

  close(): void {
    for (const claimer of [...this.claimers]) void claimer.close();
  }
}

function safeParse(json: string | undefined): Record<string, unknown> {
  try {
    return JSON.parse(json ?? "{}") as Record<string, unknown>;
  } catch {
    return {};
  }
}

class RedisClaimer implements JobClaimer {
  private closed = false;
  /** Claims wait for the connection's first attempt only; later outages fail them at once. */
  private readonly firstAttempt: Promise<void>;

  constructor(
    private readonly queue: string,
    readonly workerId: string,
    private readonly conn: Redis,
    connectTimeoutMs: number,
    private readonly onClose: () => void,
  ) {
    this.firstAttempt = settle(conn, connectTimeoutMs);
  }

  async claim(leaseMs: number, blockMs: number): Promise<Job | null> {
    if (this.closed) return null;
    await this.firstAttempt;
    const from = keys.jobQueue(this.queue);
    // A waiting job is taken and leased in one round trip; only an empty queue needs the blocking path.
    const now0 = Date.now();
    const ready = await guard(this.conn, (c) =>
      CLAIM_NOW.run(c, [from, keys.jobLeases(this.queue)], [keys.jobProcessing(this.queue, ""), this.workerId, now0 + leaseMs, now0]),
    ).catch((err) => {
      if (this.closed) return null;
      throw err;
    });
    if (typeof ready === "string") return decodeJob(ready);
    if (this.closed) return null;
    const holding = keys.jobHolding(this.queue);
    const blockSec = Math.min(Math.max(0, blockMs), MAX_BLOCK_MS) / 1000;
    let raw: string | null;
    try {
      raw = await guard(this.conn, (c) =>
        blockSec > 0 ? c.blmove(from, holding, "RIGHT", "LEFT", blockSec) : c.lmove(from, holding, "RIGHT", "LEFT"),
      );
    } catch (err) {
      if (this.closed) return null;
      throw err;
    }
    if (raw === null) return null;
    const job = decodeJob(raw);
    if (!job) {
      // Not a job this code wrote; keeping it would make the reaper cycle it forever.
      await guard(this.conn, (c) => c.lrem(holding, 1, raw));
      return null;
    }
    const now = Date.now();
    const scriptKeys = [holding, keys.jobHoldingSeen(this.queue), keys.jobLeases(this.queue), keys.jobProcessing(this.queue, job.id)];
    const args = [raw, this.workerId, now + leaseMs, now, job.id, JSON.stringify(job.data), job.attempt, job.enqueued_at];
    const leased = await guard(this.conn, (c) => LEASE.run(c, scriptKeys, args));
    return leased === 1 ? job : null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    closeQuietly(this.conn);
    this.onClose();
  }
}
