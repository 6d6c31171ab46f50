/**
 * What happens to a claimed `files` job, shared by the file workers and the
 * reaper. Status moves pending -> processing -> completed | failed with
 * conditional updates, so however often a job runs (lease lost, worker
 * killed) the file reaches one terminal state; the chat message carries the
 * file id as its client_id, so a repeated announcement is a no-op. A job
 * that is not its uploader's turn yet (turns.ts) goes to the back of the
 * queue instead.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { Counter, Histogram } from "prom-client";
import type { Db } from "../../db/client";
import { files } from "../../db/schema";
import type { Engine, Job } from "../../engine/types";
import { userChannel } from "../../engine/names";
import { NotFound } from "../../errors";
import { log } from "../../lib/log";
import { registry } from "../../plugins/metrics";
import type { ChatService } from "../chat/service";
import { messageContent, type FileRow } from "./model";
import { FileRejected, type Processor } from "./processor";
import { isImage, kindOf } from "./sniff";
import { thumbnailKey, type FileStorage } from "./storage";
import { MAX_WAIT_MS, OPEN, takeTurn } from "./turns";

export const FILES_QUEUE = "files";
/** Processing attempts of one upload before it ends as failed (the files queue's own limit). */
export const FILE_MAX_ATTEMPTS = 3;
/** Renewed every third of it while a job runs; the processing runs in a Worker, so renewals are never starved. */
export const FILE_LEASE_MS = 15_000;

export const fileMetrics = {
  jobs: new Counter({ name: "huddle_file_jobs_total", help: "Finished file jobs by outcome", labelNames: ["status"] as const, registers: [registry] }),
  run: new Histogram({ name: "huddle_file_process_seconds", help: "Time to process a claimed file", buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 120], registers: [registry] }),
  deferred: new Counter({ name: "huddle_file_jobs_deferred_total", help: "File jobs sent to the back of the queue to let other uploaders go first", registers: [registry] }),
};

/** A worker that deferred a job pauses this long first, so deferring never spins on the queue. */
const DEFER_PAUSE_MS = 200;

export class FileJobs {
  constructor(
    private readonly db: Db,
    private readonly engine: Engine,
    private readonly storage: FileStorage,
    private readonly chat: ChatService,
    private readonly processor: Processor,
    private readonly maxAttempts = FILE_MAX_ATTEMPTS,
  ) {}

  /**
   * Processes a claimed job; returns once the file is terminal (by this call
   * or an earlier one), or once the job went to the back of the queue to wait
   * its turn. Throws on failures that another attempt may not hit.
   */
  async run(job: Job, signal?: AbortSignal): Promise<void> {
    const since = typeof job.data.waiting_since === "number" ? job.data.waiting_since : null;
    const turn = await takeTurn(this.db, job.id, since === null || Date.now() - since < MAX_WAIT_MS);
    if (turn.kind === "wait") return this.defer(job, since ?? Date.now(), signal);
    if (turn.kind === "done") {
      // Terminal already; a completed file whose announcement was cut short gets it now.
      const [done] = await this.db.select().from(files).where(eq(files.id, job.id));
      if (done?.status === "completed") await this.announce(done);
      return;
    }
    const row = turn.row;
    const t0 = performance.now();
    const kind = kindOf(row.contentType);
    const original = await this.storage.read(row.storedName);
    if (!kind || !original) return this.fail(row, original ? `unsupported type ${row.contentType}` : "the uploaded bytes are missing from storage");
    let out;
    try {
      out = isImage(kind) ? await this.processor(kind, original, signal) : {};
    } catch (err) {
      if (err instanceof FileRejected) return this.fail(row, err.message);
      throw err;
    }
    // Overwriting is atomic and idempotent: a retry after a crash here processes metadata-free bytes again.
    if (out.bytes) await this.storage.put(row.storedName, out.bytes, row.contentType);
    if (out.thumbnail) await this.storage.put(thumbnailKey(row.storedName), out.thumbnail.bytes, out.thumbnail.type);
    const stored = out.bytes ?? original;
    const [done] = await this.db.update(files).set({
      status: "completed", error: null, processedAt: sql`now()`,
      sha256: new Bun.CryptoHasher("sha256").update(stored).digest("hex"), sizeBytes: stored.length,
      width: out.width ?? null, height: out.height ?? null, thumbnailType: out.thumbnail?.type ?? null,
    }).where(and(eq(files.id, row.id), inArray(files.status, OPEN))).returning();
    fileMetrics.run.observe((performance.now() - t0) / 1000);
    if (!done) return;
    fileMetrics.jobs.inc({ status: "completed" });
    await this.announce(done);
  }

  /**
   * Back of the queue (the claim loop then completes this lease): pushed before the lease ends, so a
   * crash in between leaves a duplicate, which runs as a no-op, never a lost job. The new job
   * starts at attempt 1; `waiting_since` carries the first deferral for MAX_WAIT_MS.
   */
  private async defer(job: Job, waitingSince: number, signal?: AbortSignal): Promise<void> {
    fileMetrics.deferred.inc();
    await new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new Error("stopping"));
      const timer = setTimeout(resolve, DEFER_PAUSE_MS);
      signal?.addEventListener("abort", () => (clearTimeout(timer), reject(new Error("stopping"))), { once: true });
    });
    await this.engine.queue(FILES_QUEUE).push(job.id, { ...job.data, waiting_since: waitingSince });
  }

  /** An attempt failed but may be retried: the file waits again, with the reason kept for the final error. */
  async failed(job: Pick<Job, "id">, err: unknown): Promise<void> {
    log.warn({ err, file: job.id }, "file processing attempt failed; handing the job back");
    await this.db.update(files).set({ status: "pending", error: String((err as Error)?.message ?? err) })
      .where(and(eq(files.id, job.id), inArray(files.status, OPEN)));
  }

  /** The reaper's end for a job that used up its attempts; throws (and the reaper retries) while PostgreSQL is down. */
  async giveUp(job: Pick<Job, "id">): Promise<void> {
    const [row] = await this.db.select().from(files).where(eq(files.id, job.id));
    if (row?.status === "completed") return this.announce(row).catch((err) => log.warn({ err, file: job.id }, "file message could not be posted"));
    if (row) await this.fail(row, `processing failed ${this.maxAttempts} times (${row.error ?? "the worker crashed or timed out"})`);
  }

  private async fail(row: FileRow, error: string): Promise<void> {
    const [done] = await this.db.update(files).set({ status: "failed", error, processedAt: sql`now()` })
      .where(and(eq(files.id, row.id), inArray(files.status, OPEN))).returning();
    if (!done) return;
    fileMetrics.jobs.inc({ status: "failed" });
    // Nobody can download a failed file: keep none of its bytes (they may still carry metadata).
    await Promise.all([this.storage.delete(row.storedName), this.storage.delete(thumbnailKey(row.storedName))]).catch(() => {});
    await this.notifyUploader(done);
  }

  /** Posts the `file` message through the normal send path, so every member's sockets get it live. */
  private async announce(row: FileRow): Promise<void> {
    try {
      await this.chat.send(row.uploaderId, { conversation_id: row.conversationId, content: messageContent(row), client_id: `file:${row.id}` }, { messageType: "file", unlimited: true });
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      log.info({ file: row.id }, "uploader left the conversation before the file was processed; no message posted");
    }
    await this.notifyUploader(row);
  }

  private async notifyUploader(row: FileRow) {
    const event = { type: "file.status", file_id: row.id, conversation_id: row.conversationId, status: row.status, error: row.error ?? null };
    await this.engine.broker.publish(userChannel(row.uploaderId), JSON.stringify(event)).catch(() => {});
  }
}
