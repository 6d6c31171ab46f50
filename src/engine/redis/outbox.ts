/** Outbox on the `chat:persist` stream; see the port in ../types.ts for the guarantees. */
import type Redis from "ioredis";
import { OUTBOX_SCAN_LIMIT, type ChatMessage, type Outbox, type OutboxEntry } from "../types";
import { throwFirstError } from "./chat";
import { closeQuietly, guard, settle } from "./connection";
import * as keys from "./keys";

export const MAX_BLOCK_MS = 30_000;

type RawEntry = [id: string, fields: string[] | null];

/** Stream entries to outbox entries; entries deleted meanwhile come back without fields and are skipped. */
function toEntries(raw: RawEntry[]): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  for (const [id, fields] of raw) {
    if (!fields) continue;
    const at = fields.indexOf("m");
    if (at < 0 || at % 2 !== 0) continue;
    out.push({ id, message: JSON.parse(fields[at + 1]!) as ChatMessage });
  }
  return out;
}

export class RedisOutbox implements Outbox {
  private readonly readers = new Map<string, { conn: Redis; firstAttempt: Promise<void> }>();
  private closed = false;

  constructor(
    private readonly conn: Redis,
    /** Opens a dedicated blocking connection. */
    private readonly openBlocking: (name: string) => Redis,
    private readonly connectTimeoutMs: number,
  ) {}

  async ensureGroup(): Promise<void> {
    try {
      await guard(this.conn, (c) => c.xgroup("CREATE", keys.chatPersist, keys.persistGroup, "0", "MKSTREAM"));
    } catch (err) {
      if (err instanceof Error && err.message.startsWith("BUSYGROUP")) return;
      throw err;
    }
  }

  async read(consumer: string, count: number, blockMs: number): Promise<OutboxEntry[]> {
    try {
      return await this.readOnce(consumer, count, blockMs);
    } catch (err) {
      // The group vanished (Redis restarted without persistence): recreate it once.
      if (!(err instanceof Error && err.message.startsWith("NOGROUP"))) throw err;
      await this.ensureGroup();
      return this.readOnce(consumer, count, blockMs);
    }
  }

  private async readOnce(consumer: string, count: number, blockMs: number): Promise<OutboxEntry[]> {
    const block = Math.min(Math.max(0, Math.floor(blockMs)), MAX_BLOCK_MS);
    const conn = block > 0 ? await this.readerFor(consumer) : this.conn;
    const head = ["GROUP", keys.persistGroup, consumer, "COUNT", count] as const;
    const reply = (await guard(conn, (c) =>
      block > 0
        ? c.xreadgroup(...head, "BLOCK", block, "STREAMS", keys.chatPersist, ">")
        : c.xreadgroup(...head, "STREAMS", keys.chatPersist, ">"),
    )) as [string, RawEntry[]][] | null;
    if (!reply || reply.length === 0) return [];
    return toEntries(reply[0]![1]);
  }

  private async readerFor(consumer: string): Promise<Redis> {
    if (this.closed) throw new Error("outbox is closed");
    let reader = this.readers.get(consumer);
    if (!reader) {
      const conn = this.openBlocking(`outbox-${consumer}`);
      // Only a new connection is worth waiting for; later, a connection that
      // is down fails the read at once.
      reader = { conn, firstAttempt: settle(conn, this.connectTimeoutMs) };
      this.readers.set(consumer, reader);
    }
    await reader.firstAttempt;
    return reader.conn;
  }

  async claimStale(consumer: string, minIdleMs: number, count: number): Promise<OutboxEntry[]> {
    try {
      const reply = (await guard(this.conn, (c) =>
        c.xautoclaim(keys.chatPersist, keys.persistGroup, consumer, minIdleMs, "0-0", "COUNT", count),
      )) as [string, RawEntry[], string[]?];
      return toEntries(reply[1]);
    } catch (err) {
      // No group means nothing was ever delivered from it: nothing to take over.
      if (err instanceof Error && err.message.startsWith("NOGROUP")) return [];
      throw err;
    }
  }

  async ack(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await guard(this.conn, async (c) => {
      const tx = c.multi().xack(keys.chatPersist, keys.persistGroup, ...ids).xdel(keys.chatPersist, ...ids);
      throwFirstError(await tx.exec());
    });
  }

  async pending(): Promise<number> {
    return guard(this.conn, (c) => c.xlen(keys.chatPersist));
  }

  async oldestAgeMs(now: number): Promise<number | null> {
    // Acknowledged entries are deleted, so the first id left is the oldest unpersisted one; ids start with their ms.
    const first = (await guard(this.conn, (c) => c.xrange(keys.chatPersist, "-", "+", "COUNT", 1))) as RawEntry[];
    return first.length ? Math.max(0, now - Number(first[0]![0].split("-")[0])) : null;
  }

  async unpersisted(conversationId: string, afterSeq: number, max: number): Promise<ChatMessage[]> {
    const raw = (await guard(this.conn, (c) => c.xrange(keys.chatPersist, "-", "+", "COUNT", OUTBOX_SCAN_LIMIT))) as RawEntry[];
    // Cheap string test first: only this conversation's entries are parsed.
    const mark = `"conversation_id":${JSON.stringify(conversationId)}`;
    const mine = raw.filter(([, fields]) => fields?.some((f) => f.includes(mark)));
    return toEntries(mine).map((e) => e.message).filter((m) => m.conversation_id === conversationId && m.seq > afterSeq)
      .sort((a, b) => a.seq - b.seq).slice(0, max);
  }

  close(): void {
    this.closed = true;
    for (const { conn } of this.readers.values()) closeQuietly(conn);
    this.readers.clear();
  }
}
