/**
 * Moves chat messages from the outbox (group `persister`; on Redis the
 * `chat:persist:{persist-<n>}` shards this instance holds a lease on, which
 * the Outbox port manages: a dead instance's shards are taken over when its
 * leases lapse) into PostgreSQL in batches, through the BatchWriter the chat
 * module hands it. An entry is acknowledged only after the writer's transaction committed,
 * so a crash anywhere re-delivers it and the writer's ON CONFLICT makes the
 * re-delivery harmless. Entries left pending by a dead instance are reclaimed
 * after PERSIST_RECLAIM_MS.
 */
import { Actor, type Exit } from "./kernel";
import type { ChatMessage, Outbox, OutboxEntry } from "../src/engine/types";
import { log } from "../src/lib/log";
import { abortableSleep, loopDelay } from "./backoff";

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

export class PersisterActor extends Actor<Msg> {
  private loop?: Promise<void>;
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly reclaimMs: number;
  private lastReclaim = 0;
  private idleWaiters: (() => void)[] = [];
  /**
   * A batch that failed is retried as soon as the store answers again: left alone it would sit in
   * this consumer's pending list until claimStale takes it back, PERSIST_RECLAIM_MS later.
   */
  private failed: OutboxEntry[] | null = null;

  constructor(private readonly outbox: Outbox, private readonly writer: BatchWriter, private readonly opts: PersisterOptions) {
    super({ name: "persister", mailbox: { capacity: 16, overflow: "drop-oldest" } });
    this.batchSize = opts.batchSize ?? 500;
    this.blockMs = opts.blockMs ?? 1000;
    this.reclaimMs = opts.reclaimMs ?? 30_000;
  }

  protected override async onStart() {
    await this.outbox.ensureGroup().catch((err) => log.warn({ err }, "persister: outbox unavailable at start; will retry"));
    this.loop = this.run();
  }

  protected override async onStop(exit: Exit) {
    await this.loop;
    if (exit.kind === "normal") await this.flush();
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
        const entries: OutboxEntry[] = this.failed ?? (await this.outbox.read(this.opts.consumer, this.batchSize, 0));
        if (entries.length === 0) return;
        this.failed = entries;
        await this.write(entries);
        await this.outbox.ack(entries.map((e) => e.id));
        this.failed = null;
      }
    } catch (err) {
      log.warn({ err }, "persister: outbox not flushed at stop; another instance will take it over");
    }
  }

  /** The work is the background loop; there is nothing to tell this actor. */
  protected handle(_msg: Msg) {}

  /** Resolves the next time the loop finds the outbox empty (for shutdown and tests; pair it with a timeout). */
  drained(): Promise<void> {
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run() {
    let failures = 0;
    while (!this.signal.aborted) {
      try {
        const entries: OutboxEntry[] = this.failed ?? (await this.next());
        if (entries.length === 0) {
          for (const w of this.idleWaiters.splice(0)) w();
          continue;
        }
        this.failed = entries;
        await this.write(entries);
        await this.outbox.ack(entries.map((e) => e.id));
        this.failed = null;
        failures = 0;
        // A short batch means the outbox is keeping up: let the next one fill a little. Without this pause
        // each message or two was its own transaction; at 1000 messages/s the pause cut server + PostgreSQL
        // CPU by a third (bench/RESULTS.md). Messages are safe in Redis meanwhile.
        if (entries.length < this.batchSize) await Bun.sleep(COALESCE_MS);
      } catch (err) {
        const delay = loopDelay(++failures);
        log.warn({ err, retryInMs: delay }, "persister: batch not written; retrying");
        await abortableSleep(delay, this.signal);
      }
    }
  }

  private async next(): Promise<OutboxEntry[]> {
    if (Date.now() - this.lastReclaim > this.reclaimMs / 2) {
      this.lastReclaim = Date.now();
      const stale = await this.outbox.claimStale(this.opts.consumer, this.reclaimMs, this.batchSize);
      if (stale.length) return stale;
    }
    return this.outbox.read(this.opts.consumer, this.batchSize, this.blockMs);
  }

  private write(entries: OutboxEntry[]) {
    return this.writer.write(entries.map((e) => e.message));
  }
}
