/**
 * Moves chat messages from the Redis outbox (`chat:persist`, group
 * `persister`) into PostgreSQL in batches. An entry is acknowledged only after
 * the transaction that wrote it committed, so a crash anywhere re-delivers it
 * and ON CONFLICT DO NOTHING makes the re-delivery harmless. Entries left
 * pending by a dead instance are reclaimed after PERSIST_RECLAIM_MS.
 */
import { sql } from "drizzle-orm";
import { Actor, type Exit } from "./kernel/index.ts";
import type { Db } from "../src/db/client";
import { messages } from "../src/db/schema";
import type { ChatMessage, Outbox, OutboxEntry } from "../src/engine/types";
import { rowsOf, toRow } from "../src/modules/chat/repo";
import { chatMetrics } from "../src/modules/chat/metrics";
import { log } from "../src/lib/log";

export type PersisterOptions = { consumer: string; batchSize?: number; blockMs?: number; reclaimMs?: number };

type Msg = never;

/** Pause after a short batch, so that batches fill up at moderate rates (bounded extra persistence delay). */
const COALESCE_MS = 25;

const FLUSH_MS = 5_000;

const rowsOfResult = (r: unknown) => rowsOf(r) as { last_seq: string | number }[];

const isDataError = (err: unknown): boolean => {
  const code = (err as { code?: string; cause?: { code?: string } })?.code ?? (err as { cause?: { code?: string } })?.cause?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
};

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

  constructor(private readonly outbox: Outbox, private readonly db: Db, private readonly opts: PersisterOptions) {
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
    let backoff = 100;
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
        backoff = 100;
        // A short batch means the outbox is keeping up: let the next one fill a little. Without this pause
        // each message or two was its own transaction; at 1000 messages/s the pause cut server + PostgreSQL
        // CPU by a third (bench/RESULTS.md). Messages are safe in Redis meanwhile.
        if (entries.length < this.batchSize) await Bun.sleep(COALESCE_MS);
      } catch (err) {
        log.warn({ err, retryInMs: backoff }, "persister: batch not written; retrying");
        await Bun.sleep(backoff + Math.random() * backoff);
        backoff = Math.min(backoff * 2, 5000);
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

  private async write(entries: OutboxEntry[]) {
    const all = entries.map((e) => e.message);
    try {
      await this.insert(all);
    } catch (err) {
      if (!isDataError(err)) throw err;
      // One odd row must not block the stream: write the rest one by one and resolve the odd one.
      for (const m of all) {
        try {
          await this.insert([m]);
        } catch (rowErr) {
          if (!isDataError(rowErr)) throw rowErr;
          await this.resolveConflict(m, rowErr);
        }
      }
    }
  }

  /**
   * A message whose seq PostgreSQL already used for another message (written
   * directly while Redis was unreachable) is kept under the next free seq:
   * losing an acknowledged message is worse than renumbering it. A message
   * whose client_id is already stored is a retry and is dropped.
   */
  private async resolveConflict(m: ChatMessage, err: unknown) {
    chatMetrics.persistConflicts.inc();
    const [byClient] = m.client_id
      ? await this.db.select({ id: messages.id }).from(messages).where(sql`conversation_id = ${m.conversation_id} and sender_id = ${m.sender_id} and client_id = ${m.client_id}`)
      : [];
    if (byClient) {
      log.warn({ message_id: m.id, kept: byClient.id }, "persister: retry of an already stored client_id dropped");
      return;
    }
    const [bySeq] = await this.db.select({ id: messages.id }).from(messages).where(sql`conversation_id = ${m.conversation_id} and seq = ${m.seq}`);
    if (!bySeq) {
      // An acknowledged message leaves the outbox here (held back, it would block the stream): the whole
      // message goes into the error log, so it can still be recovered by hand.
      log.error({ err, message_id: m.id, conversation_id: m.conversation_id, message: m }, "persister: message rejected by PostgreSQL; dropped from outbox");
      return;
    }
    await this.db.transaction(async (tx) => {
      const [conv] = await tx.execute(sql`update conversations set last_seq = greatest(last_seq, (select coalesce(max(seq), 0) from messages where conversation_id = ${m.conversation_id})) + 1
        where id = ${m.conversation_id} returning last_seq`).then(rowsOfResult);
      const renumbered = { ...m, seq: Number(conv!.last_seq) };
      await tx.insert(messages).values(toRow(renumbered));
      log.warn({ message_id: m.id, from_seq: m.seq, to_seq: renumbered.seq }, "persister: seq already taken in PostgreSQL; message stored under a new seq");
    });
  }

  private async insert(batch: ChatMessage[]) {
    await this.db.transaction(async (tx) => {
      // Only a re-delivered id is harmless; a clash on seq or client_id must surface (see resolveConflict).
      // The batch travels as one JSON parameter: building a 500-row VALUES list through the query
      // builder cost 3-5x the whole insert (bench/RESULTS.md, persistence).
      const written = rowsOf(await tx.execute(sql`insert into messages (id, conversation_id, seq, sender_id, receiver_id, content, message_type, client_id, timestamp)
        select * from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as m(id uuid, conversation_id uuid, seq bigint, sender_id uuid,
          receiver_id uuid, content text, message_type text, client_id text, timestamp timestamptz)
        on conflict (id) do nothing returning id`));
      chatMetrics.persisted.inc(written.length);
      const latest = new Map<string, ChatMessage>();
      for (const m of batch) if ((latest.get(m.conversation_id)?.seq ?? 0) < m.seq) latest.set(m.conversation_id, m);
      // One statement for every conversation of the batch: a round trip per conversation took ~40% of a batch,
      // listed in id order so concurrent persisters tend to lock rows in the same order.
      const heads = [...latest.values()].sort((a, b) => (a.conversation_id < b.conversation_id ? -1 : 1))
        .map((m) => ({ id: m.conversation_id, seq: m.seq, at: m.timestamp }));
      await tx.execute(sql`update conversations c set last_seq = greatest(c.last_seq, h.seq),
          last_message_at = greatest(coalesce(c.last_message_at, h.at), h.at)
        from jsonb_to_recordset(${JSON.stringify(heads)}::jsonb) as h(id uuid, seq bigint, at timestamptz)
        where c.id = h.id`);
    });
  }
}
