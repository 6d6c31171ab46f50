/**
 * Moves chat messages from the outbox (group `persister`; on Redis the
 * `chat:persist:{persist-<n>}` shards this instance holds a lease on, which
 * the Outbox port manages: a dead instance's shards are taken over when its
 * leases lapse) into PostgreSQL in batches, through the BatchWriter the chat
 * module hands it. An entry is acknowledged only after the writer's transaction committed,
 * so a crash anywhere re-delivers it and the writer's ON CONFLICT makes the
 * re-delivery harmless. Entries left pending by a dead instance are reclaimed
 * after PERSIST_RECLAIM_MS.
 *
 * Overlap (when backlogged): while batch N commits, batch N+1 is read; batches
 * commit strictly one after another in read order (so a conversation's entries
 * of N+1 never commit before those of N), and acknowledgements run behind the
 * commits (ack-queue.ts) instead of in front of the next one. A full batch
 * doubles the next one's size (up to MAX_GROWTH times the base), a short one
 * halves it back.
 */
import { Actor, type Exit } from "./kernel";
import type { ChatMessage, Outbox, OutboxEntry } from "../src/engine/types";
import { log } from "../src/lib/log";
import { abortableSleep, loopDelay } from "./backoff";
import { AckQueue } from "./ack-queue";

/** Where a batch goes. Owned by the chat module; the persister only moves entries. */
export interface BatchWriter {
  /**
   * Stores the messages (ascending seq per conversation) in one transaction,
   * or resolves every message that PostgreSQL rejects for a reason of its own
   * (a seq clash, a retried client_id). Resolving means the batch may be
   * acknowledged; throwing means nothing is acknowledged and the batch is
   * retried after a backoff (PostgreSQL down, a transient error).
   */
  write(batch: ChatMessage[]): Promise<void>;
}

export type PersisterOptions = { consumer: string; batchSize?: number; blockMs?: number; reclaimMs?: number };

type Msg = never;

/** Pause after a short batch, so that batches fill up at moderate rates (bounded extra persistence delay). */
const COALESCE_MS = 25;

const FLUSH_MS = 5_000;

/** A backlogged persister grows its batches up to this many times the base size (fewer, larger transactions). */
const MAX_GROWTH = 4;

export class PersisterActor extends Actor<Msg> {
  private loop?: Promise<void>;
  private readonly baseSize: number;
  private size: number;
  private readonly blockMs: number;
  private readonly reclaimMs: number;
  private lastReclaim = 0;
  private idleWaiters: (() => void)[] = [];
  /**
   * Batches read and not yet committed, oldest first: at most two (the one committing and the one read
   * meanwhile). A batch that failed stays at the head and is retried as soon as the store answers again:
   * left alone it would sit in this consumer's pending list until claimStale takes it back.
   */
  private readonly queue: OutboxEntry[][] = [];
  private readonly acks: AckQueue;

  constructor(private readonly outbox: Outbox, private readonly writer: BatchWriter, private readonly opts: PersisterOptions) {
    super({ name: "persister", mailbox: { capacity: 16, overflow: "drop-oldest" } });
    this.baseSize = opts.batchSize ?? 500;
    this.size = this.baseSize;
    this.blockMs = opts.blockMs ?? 1000;
    this.reclaimMs = opts.reclaimMs ?? 30_000;
    this.acks = new AckQueue((ids) => this.outbox.ack(ids));
  }

  protected override async onStart() {
    await this.outbox.ensureGroup().catch((err) => log.warn({ err }, "persister: outbox unavailable at start; will retry"));
    this.loop = this.run();
  }

  protected override async onStop(exit: Exit) {
    await this.loop;
    if (exit.kind === "normal") await this.flush();
    else await this.acks.settle();
  }

  /**
   * A clean stop writes what is still in the outbox, so a shut-down instance
   * leaves nothing behind for others to reclaim. Nothing new arrives by then
   * (HTTP and sockets stop first); bounded, and what is left is safe in Redis.
   */
  private async flush() {
    const until = Date.now() + FLUSH_MS;
    try {
      while (Date.now() < until) {
        if (this.queue.length === 0) {
          const entries = await this.outbox.read(this.opts.consumer, this.size, 0);
          if (entries.length === 0) break;
          this.queue.push(entries);
        }
        await this.commitHead();
      }
    } catch (err) {
      log.warn({ err }, "persister: outbox not flushed at stop; another instance will take it over");
    }
    await this.acks.settle();
  }

  /** The work is the background loop; there is nothing to tell this actor. */
  protected handle(_msg: Msg) {}

  /** Resolves the next time the loop finds the outbox empty, everything committed and acknowledged (for shutdown and tests; pair it with a timeout). */
  drained(): Promise<void> {
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run() {
    let failures = 0;
    while (!this.signal.aborted) {
      try {
        if (this.queue.length === 0) {
          const entries = await this.next(this.blockMs);
          if (entries.length === 0) {
            await this.acks.settle();
            for (const w of this.idleWaiters.splice(0)) w();
            continue;
          }
          this.queue.push(entries);
        }
        const head = this.queue[0]!;
        const backlogged = head.length >= this.size;
        this.size = backlogged ? Math.min(this.size * 2, this.baseSize * MAX_GROWTH) : Math.max(this.baseSize, this.size >> 1);
        // Backlogged: read the next batch while this one commits. A read that fails leaves its entries (if
        // Redis delivered any) pending for claimStale, as before; the commit's outcome is what counts here.
        const ahead = backlogged && this.queue.length < 2
          ? this.next(0).catch((err) => (log.warn({ err }, "persister: read-ahead failed"), [] as OutboxEntry[]))
          : null;
        const committed = this.commitHead().then(() => null, (err: unknown) => err);
        const [err, more] = await Promise.all([committed, ahead]);
        if (more?.length) this.queue.push(more);
        if (err !== null) throw err;
        failures = 0;
        // A short batch means the outbox is keeping up: let the next one fill a little. Without this pause
        // each message or two was its own transaction; at 1000 messages/s the pause cut server + PostgreSQL
        // CPU by a third (bench/RESULTS.md). Messages are safe in Redis meanwhile.
        if (!backlogged && this.queue.length === 0) await Bun.sleep(COALESCE_MS);
      } catch (err) {
        const delay = loopDelay(++failures);
        log.warn({ err, retryInMs: delay }, "persister: batch not written; retrying");
        await abortableSleep(delay, this.signal);
      }
    }
  }

  /** Commits the oldest batch read; only then it leaves the queue and is acknowledged (behind the next commit). */
  private async commitHead() {
    const head = this.queue[0]!;
    await this.writer.write(head.map((e) => e.message));
    this.queue.shift();
    this.acks.push(head.map((e) => e.id));
  }

  private async next(blockMs: number): Promise<OutboxEntry[]> {
    if (Date.now() - this.lastReclaim > this.reclaimMs / 2) {
      this.lastReclaim = Date.now();
      const stale = await this.outbox.claimStale(this.opts.consumer, this.reclaimMs, this.size);
      if (stale.length) return stale;
    }
    return this.outbox.read(this.opts.consumer, this.size, blockMs);
  }
}
