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
 * Overlap: the next batch is read while earlier ones commit (at most two read
 * and not committed per lane); commits run in lanes by conversation, each lane
 * in read order (commit-lanes.ts); acknowledgements follow the commits without
 * holding up the next one (ack-queue.ts). A full batch doubles the next read's
 * size (up to MAX_GROWTH times the base), a short one halves it back.
 */
import { Actor, type Exit } from "./kernel";
import type { ChatMessage, Outbox, OutboxEntry } from "../src/engine/types";
import { log } from "../src/lib/log";
import { abortableSleep, loopDelay } from "./backoff";
import { AckQueue } from "./ack-queue";
import { CommitLanes } from "./commit-lanes";

/** Where a batch goes. Owned by the chat module; the persister only moves entries. */
export interface BatchWriter {
  /**
   * Stores the messages (ascending seq per conversation) in one transaction,
   * or resolves every message that PostgreSQL rejects for a reason of its own
   * (a seq clash, a retried client_id). Resolving means the batch may be
   * acknowledged; throwing means nothing is acknowledged and the batch is
   * retried after a backoff (PostgreSQL down, a transient error).
   * Called for at most one batch per conversation at a time, in read order.
   */
  write(batch: ChatMessage[]): Promise<void>;
}

export type PersisterOptions = { consumer: string; batchSize?: number; blockMs?: number; reclaimMs?: number };

type Msg = never;

/** Pause after a short batch, so that batches fill up at moderate rates: fewer transactions, at most this much later in PostgreSQL. */
const COALESCE_MS = 100;

const FLUSH_MS = 5_000;

/** A backlogged persister grows its reads up to this many times the base size (fewer, larger transactions). */
const MAX_GROWTH = 4;

/** Batches read and not yet committed in one lane before the reader waits. */
const MAX_AHEAD = 2;

export class PersisterActor extends Actor<Msg> {
  private loop?: Promise<void>;
  private readonly baseSize: number;
  private size: number;
  private readonly blockMs: number;
  private readonly reclaimMs: number;
  private lastReclaim = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly acks: AckQueue;
  private readonly lanes: CommitLanes;

  constructor(private readonly outbox: Outbox, writer: BatchWriter, private readonly opts: PersisterOptions) {
    super({ name: "persister", mailbox: { capacity: 16, overflow: "drop-oldest" } });
    this.baseSize = opts.batchSize ?? 500;
    this.size = this.baseSize;
    this.blockMs = opts.blockMs ?? 1000;
    this.reclaimMs = opts.reclaimMs ?? 30_000;
    this.acks = new AckQueue((ids) => this.outbox.ack(ids));
    this.lanes = new CommitLanes((batch) => writer.write(batch), this.acks);
  }

  protected override async onStart() {
    await this.outbox.ensureGroup().catch((err) => log.warn({ err }, "persister: outbox unavailable at start; will retry"));
    this.loop = this.run();
  }

  protected override async onStop(exit: Exit) {
    await this.loop;
    // Nothing read may commit after this actor is gone (a successor could otherwise commit later entries first).
    if (exit.kind === "normal") await this.flush();
    else await this.lanes.stop(0);
    await this.acks.settle();
  }

  /**
   * A clean stop writes what is still in the outbox, so a shut-down instance
   * leaves nothing behind for others to reclaim. Nothing new arrives by then
   * (HTTP and sockets stop first); bounded, and what is left is safe in Redis.
   */
  private async flush() {
    const until = Date.now() + FLUSH_MS;
    try {
      await this.lanes.stop(FLUSH_MS);
      while (Date.now() < until) {
        const entries = await this.outbox.read(this.opts.consumer, this.size, 0);
        if (entries.length === 0) break;
        this.lanes.push(entries);
        await this.lanes.settled();
      }
    } catch (err) {
      log.warn({ err }, "persister: outbox not flushed at stop; another instance will take it over");
      await this.lanes.settled();
    }
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
        // At most MAX_AHEAD batches per lane read and not committed: wait for a commit (or a failed attempt).
        while (this.lanes.depth() >= MAX_AHEAD && !this.signal.aborted) await this.lanes.changed();
        if (this.signal.aborted) break;
        const busy = !this.lanes.idle();
        const readAt = performance.now();
        // While commits run, look without blocking; with nothing new, wait for one of them instead.
        const entries = await this.next(busy ? 0 : this.blockMs);
        failures = 0;
        if (entries.length === 0) {
          // Checked now, not before the read: the commits may have ended meanwhile, and then no change is coming.
          if (!this.lanes.idle()) await this.lanes.changed();
          else if (!busy) {
            await this.acks.settle();
            for (const w of this.idleWaiters.splice(0)) w();
          }
          continue;
        }
        this.lanes.push(entries);
        const full = entries.length >= this.size;
        this.size = full ? Math.min(this.size * 2, this.baseSize * MAX_GROWTH) : Math.max(this.baseSize, this.size >> 1);
        // A short batch means the outbox is keeping up: let the next one fill a little (COALESCE_MS from this
        // read, while this one commits). Without this pause each message or two was its own transaction; at
        // 1000 messages/s a 25 ms pause cut server + PostgreSQL CPU by a third, and 100 ms halved PostgreSQL's
        // CPU again at 4000/s (bench/RESULTS.md). Messages are safe in Redis meanwhile, and every read
        // (history, resume) takes what PostgreSQL lacks from Redis; search finds a message that much later.
        if (!full) await Bun.sleep(Math.max(0, COALESCE_MS - (performance.now() - readAt)));
      } catch (err) {
        const delay = loopDelay(++failures);
        log.warn({ err, retryInMs: delay }, "persister: outbox not read; retrying");
        await abortableSleep(delay, this.signal);
      }
    }
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
