/**
 * One claim loop on files:queue, like the judge's WorkerActor: the lease is
 * renewed while a file is processed (in a Bun Worker, so renewals are never
 * starved); a crash, a kill or a lost lease leaves the job to the reaper. A
 * failed attempt hands the job back at once (its lease is cut to now), so
 * the reaper retries it within a second and gives up after 3 attempts.
 * Stopping aborts the file in progress and hands it back the same way.
 */
import { Actor, type ChildSpec } from "./kernel/index.ts";
import { ReaperActor } from "./reaper.actor";
import type { JobClaimer, JobQueue } from "../src/engine/types";
import type { Config } from "../src/config";
import type { Db } from "../src/db/client";
import type { Engine } from "../src/engine/types";
import { ChatRepo } from "../src/modules/chat/repo";
import { ChatService } from "../src/modules/chat/service";
import { FILE_LEASE_MS, FILES_QUEUE, FileJobs } from "../src/modules/files/jobs";
import { workerProcessor, type Processor } from "../src/modules/files/processor";
import { createStorage } from "../src/modules/files/storage";
import { log } from "../src/lib/log";

export type FileWorkerOptions = { id: string; leaseMs: number; blockMs?: number };

export class FileWorkerActor extends Actor<never> {
  private claimer: JobClaimer | null = null;
  private loop?: Promise<void>;

  constructor(private readonly queue: JobQueue, private readonly jobs: FileJobs, private readonly opts: FileWorkerOptions) {
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
        const job = await this.claimer!.claim(this.opts.leaseMs, this.opts.blockMs ?? 2000);
        if (!job) continue;
        const renew = setInterval(() => {
          void this.queue.extend(job.id, this.opts.id, this.opts.leaseMs).catch(() => {});
        }, this.opts.leaseMs / 3);
        let ok = false;
        try {
          await this.jobs.run(job, this.signal);
          ok = true;
        } catch (err) {
          log.warn({ err, worker: this.opts.id, file: job.id, attempt: job.attempt }, "file worker: attempt failed; handing the job back");
          await this.jobs.retryLater(job.id, err).catch(() => {});
        } finally {
          clearInterval(renew);
        }
        if (ok) await this.queue.complete(job.id, this.opts.id);
        else await this.queue.extend(job.id, this.opts.id, 0);
        backoff = 100;
      } catch (err) {
        if (this.signal.aborted) return;
        log.warn({ err, worker: this.opts.id, retryInMs: backoff }, "file worker: claim failed; backing off");
        await Bun.sleep(backoff + Math.random() * backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }
}

/**
 * The file branch of the supervision tree: a reaper for files:queue and
 * FILE_WORKER_CONCURRENCY workers. `api` processes run none. The workers post
 * through their own ChatService without a rate limit: the upload was already
 * limited, and the file message is the server's, not a user's burst.
 */
export function fileChildren(config: Config, engine: Engine, db: Db, processor: Processor = workerProcessor()): ChildSpec[] {
  if (config.ROLE === "api" || config.FILE_WORKER_CONCURRENCY === 0) return [];
  const queue = engine.queue(FILES_QUEUE);
  const chat = new ChatService(new ChatRepo(db), engine, async () => {});
  const jobs = new FileJobs(db, engine, createStorage(config), chat, processor);
  return [
    { name: "file-reaper", kind: "permanent", create: () => new ReaperActor(queue, jobs, 1000, "file-reaper") },
    ...Array.from({ length: config.FILE_WORKER_CONCURRENCY }, (_, i): ChildSpec => {
      const id = `file-worker-${config.INSTANCE_ID}-${i}`;
      return { name: id, kind: "permanent", create: () => new FileWorkerActor(queue, jobs, { id, leaseMs: FILE_LEASE_MS }) };
    }),
  ];
}
