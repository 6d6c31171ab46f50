/**
 * Outbox on the sharded `chat:persist:{persist-<n>}` streams; see the port in
 * ../types.ts for the guarantees and keys.ts for the layout. A consumer reads
 * only the shards it holds a lease on (outbox-leases.ts). Entry ids carry
 * their shard (`<shard>/<stream id>`), so ack knows where each one lives.
 *
 * Reading: on a single Redis one XREADGROUP BLOCK covers every held shard.
 * A cluster refuses a command over keys of several slots, so there each
 * held shard is read without blocking and an empty round waits POLL_MS
 * before the next (a bounded delay of persistence only, never of delivery).
 */
import type Redis from "ioredis";
import { OUTBOX_SCAN_LIMIT, type ChatMessage, type Outbox, type OutboxEntry } from "../types";
import { throwFirstError } from "./chat";
import { closeQuietly, guard, settle, type Conn } from "./connection";
import * as keys from "./keys";
import { ShardLeases } from "./outbox-leases";

export const MAX_BLOCK_MS = 30_000;
const POLL_MS = 50;
const LEGACY = keys.OUTBOX_SHARDS;

type RawEntry = [id: string, fields: string[] | null];

const streamOf = (shard: number) => (shard === LEGACY ? keys.chatPersistLegacy : keys.chatPersistShard(shard));

/** Stream entries to outbox entries; entries deleted meanwhile come back without fields and are skipped. */
function toEntries(shard: number, raw: RawEntry[]): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  for (const [id, fields] of raw) {
    if (!fields) continue;
    const at = fields.indexOf("m");
    if (at < 0 || at % 2 !== 0) continue;
    out.push({ id: `${shard}/${id}`, message: JSON.parse(fields[at + 1]!) as ChatMessage });
  }
  return out;
}

const isNoGroup = (err: unknown) => err instanceof Error && err.message.startsWith("NOGROUP");

export class RedisOutbox implements Outbox {
  private readonly readers = new Map<string, { conn: Redis; firstAttempt: Promise<void> }>();
  private readonly leases = new Map<string, ShardLeases>();
  private readonly shards: number[];
  private closed = false;

  constructor(
    private readonly conn: Conn,
    /** Opens a dedicated blocking connection (single Redis only). */
    private readonly openBlocking: (name: string) => Conn,
    private readonly connectTimeoutMs: number,
    private readonly leaseMs = 10_000,
  ) {
    this.shards = Array.from({ length: keys.OUTBOX_SHARDS }, (_, i) => i);
    // A cluster is new with this layout; a single Redis may still hold the untagged stream of an older version.
    if (!conn.isCluster) this.shards.push(LEGACY);
  }

  async ensureGroup(): Promise<void> {
    await Promise.all(this.shards.map((s) => this.ensureGroupOf(s)));
  }

  private async ensureGroupOf(shard: number): Promise<void> {
    // The legacy stream is never created: only an existing one has anything to drain.
    const mk = shard === LEGACY ? [] : ["MKSTREAM"];
    try {
      await guard(this.conn, (c) => c.call("XGROUP", "CREATE", streamOf(shard), keys.persistGroup, "0", ...mk));
    } catch (err) {
      if (err instanceof Error && err.message.startsWith("BUSYGROUP")) return;
      if (!(shard === LEGACY && err instanceof Error && err.message.includes("requires the key to exist"))) throw err;
      // No old stream to drain: stop reading it (the array is shared with the leases, which then ignore it too).
      const at = this.shards.indexOf(LEGACY);
      if (at >= 0) this.shards.splice(at, 1);
    }
  }

  private leasesOf(consumer: string): ShardLeases {
    let l = this.leases.get(consumer);
    if (!l) this.leases.set(consumer, (l = new ShardLeases(this.conn, consumer, this.shards, this.leaseMs)));
    return l;
  }

  async read(consumer: string, count: number, blockMs: number): Promise<OutboxEntry[]> {
    if (this.closed) throw new Error("outbox is closed");
    const held = (await this.leasesOf(consumer).current()).filter((s) => this.shards.includes(s));
    // Never block past a third of a lease: the leases are renewed between reads.
    const block = Math.min(Math.max(0, Math.floor(blockMs)), MAX_BLOCK_MS, Math.floor(this.leaseMs / 3));
    if (held.length === 0) {
      // Every shard is someone else's: look again when leases may have changed.
      if (block > 0) await Bun.sleep(Math.min(block, this.leaseMs / 3));
      return [];
    }
    try {
      return await this.readShards(consumer, held, count, block);
    } catch (err) {
      // A group vanished (Redis restarted without persistence): recreate them once.
      if (!isNoGroup(err)) throw err;
      await this.ensureGroup();
      return this.readShards(consumer, held.filter((s) => this.shards.includes(s)), count, block);
    }
  }

  private async readShards(consumer: string, held: number[], count: number, block: number): Promise<OutboxEntry[]> {
    const head = ["GROUP", keys.persistGroup, consumer, "COUNT", count] as const;
    if (this.conn.isCluster) {
      const until = Date.now() + block;
      for (;;) {
        const replies = await Promise.allSettled(held.map((s) =>
          guard(this.conn, (c) => c.xreadgroup(...head, "STREAMS", streamOf(s), ">")) as Promise<[string, RawEntry[]][] | null>));
        const out = replies.flatMap((r, i) => (r.status === "fulfilled" && r.value?.[0] ? toEntries(held[i]!, r.value[0][1]) : []));
        // Entries delivered are returned whatever else failed (left unreturned they would wait for claimStale).
        if (out.length > 0) return out;
        // One master failing over must not stop the shards on the others: only a lost group (recreated by
        // the caller) or no shard answering at all is an error.
        const failed = replies.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
        const lostGroup = failed.find(isNoGroup);
        if (lostGroup !== undefined) throw lostGroup;
        if (failed.length > 0 && failed.length === replies.length) throw failed[0];
        if (Date.now() >= until || this.closed) return out;
        await Bun.sleep(Math.min(POLL_MS, until - Date.now()));
      }
    }
    const streams = held.map(streamOf);
    const conn = block > 0 ? await this.readerFor(consumer) : this.conn;
    const ids = held.map(() => ">");
    const reply = (await guard(conn, (c) =>
      block > 0
        ? c.xreadgroup(...head, "BLOCK", block, "STREAMS", ...streams, ...ids)
        : c.xreadgroup(...head, "STREAMS", ...streams, ...ids),
    )) as [string, RawEntry[]][] | null;
    if (!reply) return [];
    return reply.flatMap(([stream, raw]) => toEntries(held[streams.indexOf(stream)]!, raw));
  }

  private async readerFor(consumer: string): Promise<Conn> {
    let reader = this.readers.get(consumer);
    if (!reader) {
      const conn = this.openBlocking(`outbox-${consumer}`) as Redis;
      // Only a new connection is worth waiting for; later, a connection that is down fails the read at once.
      reader = { conn, firstAttempt: settle(conn, this.connectTimeoutMs) };
      this.readers.set(consumer, reader);
    }
    await reader.firstAttempt;
    return reader.conn;
  }

  async claimStale(consumer: string, minIdleMs: number, count: number): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = [];
    let unreachable: unknown;
    // Every shard, held ones first: leases decide who reads new entries, but an entry idle this long belongs to
    // a consumer that died (its lease may not have expired yet) and anyone may finish it. Order in PostgreSQL is
    // by seq, so a batch taken over alongside the shard's new holder is harmless (ON CONFLICT covers the rest).
    const held = await this.leasesOf(consumer).current();
    for (const shard of [...held, ...this.shards.filter((s) => !held.includes(s))]) {
      if (out.length >= count) break;
      try {
        const reply = (await guard(this.conn, (c) =>
          c.xautoclaim(streamOf(shard), keys.persistGroup, consumer, minIdleMs, "0-0", "COUNT", count - out.length),
        )) as [string, RawEntry[], string[]?];
        out.push(...toEntries(shard, reply[1]));
      } catch (err) {
        // No group (or no stream) means nothing was ever delivered from it: nothing to take over. A shard whose
        // master is failing over is looked at again next time; the others go on.
        if (!isNoGroup(err)) unreachable ??= err;
      }
    }
    if (out.length === 0 && unreachable !== undefined) throw unreachable;
    return out;
  }

  async ack(ids: string[]): Promise<void> {
    const byShard = new Map<number, string[]>();
    for (const id of ids) {
      const cut = id.indexOf("/");
      const shard = Number(id.slice(0, cut));
      if (cut < 0 || !this.shards.includes(shard)) continue; // not an id this outbox gave out
      let list = byShard.get(shard);
      if (!list) byShard.set(shard, (list = []));
      list.push(id.slice(cut + 1));
    }
    await Promise.all([...byShard].map(([shard, streamIds]) =>
      guard(this.conn, async (c) => {
        const stream = streamOf(shard);
        throwFirstError(await c.multi().xack(stream, keys.persistGroup, ...streamIds).xdel(stream, ...streamIds).exec());
      })));
  }

  async pending(): Promise<number> {
    const lengths = await Promise.all(this.shards.map((s) => guard(this.conn, (c) => c.xlen(streamOf(s)))));
    return lengths.reduce((a, b) => a + b, 0);
  }

  async oldestAgeMs(now: number): Promise<number | null> {
    // Acknowledged entries are deleted, so each shard's first id is its oldest unpersisted one; ids start with their ms.
    const firsts = await Promise.all(this.shards.map((s) =>
      guard(this.conn, (c) => c.xrange(streamOf(s), "-", "+", "COUNT", 1)) as Promise<RawEntry[]>));
    const times = firsts.filter((f) => f.length > 0).map((f) => Number(f[0]![0].split("-")[0]));
    return times.length ? Math.max(0, now - Math.min(...times)) : null;
  }

  async unpersisted(conversationId: string, afterSeq: number, max: number): Promise<ChatMessage[]> {
    const shards = [keys.outboxShardOf(conversationId), ...(this.shards.includes(LEGACY) ? [LEGACY] : [])];
    // Cheap string test first: only this conversation's entries are parsed.
    const mark = `"conversation_id":${JSON.stringify(conversationId)}`;
    const found: ChatMessage[] = [];
    for (const shard of shards) {
      const raw = (await guard(this.conn, (c) => c.xrange(streamOf(shard), "-", "+", "COUNT", OUTBOX_SCAN_LIMIT))) as RawEntry[];
      const mine = raw.filter(([, fields]) => fields?.some((f) => f.includes(mark)));
      found.push(...toEntries(shard, mine).map((e) => e.message));
    }
    const seen = new Set<number>();
    return found.filter((m) => m.conversation_id === conversationId && m.seq > afterSeq && !seen.has(m.seq) && seen.add(m.seq))
      .sort((a, b) => a.seq - b.seq).slice(0, max);
  }

  /** Gives the shard leases back (so other instances take over at once) and closes the blocking readers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { conn } of this.readers.values()) closeQuietly(conn);
    this.readers.clear();
    await Promise.all([...this.leases.values()].map((l) => l.releaseAll()));
  }
}
