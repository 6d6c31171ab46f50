/**
 * The persister with overlap: batches commit in two lanes side by side, yet a
 * conversation's entries always commit in seq order and never in two
 * transactions at once, a failing commit is retried before anything behind it,
 * and an entry is acknowledged only after its commit. On the in-process outbox
 * (the same delivery and ack semantics as the Redis streams, which the chat
 * integration and fault tests cover end to end).
 */
import { describe, expect, test } from "bun:test";
import { PersisterActor, type BatchWriter } from "../../../actors/persister.actor";
import { MemoryOutbox } from "../../../src/engine/memory/outbox";
import type { ChatMessage } from "../../../src/engine/types";

/** Fixed-seed generator (mulberry32), so a failure reproduces. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const message = (conversation: number, seq: number): ChatMessage => ({
  id: `m-${conversation}-${seq}`, conversation_id: `00000000-0000-0000-0000-${String(conversation).padStart(12, "0")}`, seq,
  sender_id: "u", receiver_id: null, content: "x", message_type: "text", client_id: null, timestamp: new Date().toISOString(),
});

/** A BatchWriter that records what commits, checks order and exclusivity per conversation, and fails now and then. */
class RecordingWriter implements BatchWriter {
  readonly committed = new Map<string, number[]>();
  readonly committedIds = new Set<string>();
  readonly violations: string[] = [];
  private readonly writing = new Set<string>();
  running = 0;
  maxRunning = 0;
  failures = 0;
  constructor(private readonly random: () => number, private readonly failEvery = 0) {}

  async write(batch: ChatMessage[]) {
    const convs = new Set(batch.map((m) => m.conversation_id));
    for (const c of convs) if (this.writing.has(c)) this.violations.push(`${c} written by two transactions at once`);
    for (const c of convs) this.writing.add(c);
    this.maxRunning = Math.max(this.maxRunning, ++this.running);
    try {
      await Bun.sleep(1 + Math.floor(this.random() * 8));
      if (this.failEvery && this.random() < 1 / this.failEvery) {
        this.failures++;
        throw new Error("the database is unavailable");
      }
      for (const m of batch) {
        if (this.committedIds.has(m.id)) continue; // a re-delivery: ON CONFLICT (id) DO NOTHING
        const seqs = this.committed.get(m.conversation_id) ?? [];
        if (seqs.length && seqs.at(-1)! >= m.seq) this.violations.push(`${m.conversation_id}: seq ${m.seq} after ${seqs.at(-1)}`);
        seqs.push(m.seq);
        this.committed.set(m.conversation_id, seqs);
        this.committedIds.add(m.id);
      }
    } finally {
      this.running--;
      for (const c of convs) this.writing.delete(c);
    }
  }
}

async function persistAll(opts: { seed: number; conversations: number; perConversation: number; failEvery: number; batchSize: number }) {
  const random = rng(opts.seed);
  const outbox = new MemoryOutbox();
  const writer = new RecordingWriter(random, opts.failEvery);
  const ackedBeforeCommit: string[] = [];
  const ack = outbox.ack.bind(outbox);
  outbox.ack = async (ids) => {
    const byId = new Map<string, string>();
    for (const [id, e] of (outbox as unknown as { entries: Map<string, { json: string }> }).entries) byId.set(id, (JSON.parse(e.json) as ChatMessage).id);
    for (const id of ids) if (byId.has(id) && !writer.committedIds.has(byId.get(id)!)) ackedBeforeCommit.push(id);
    return ack(ids);
  };
  const persister = new PersisterActor(outbox, writer, { consumer: "p1", batchSize: opts.batchSize, blockMs: 50 });
  await persister.start();
  const next = Array.from({ length: opts.conversations }, () => 1);
  const total = opts.conversations * opts.perConversation;
  // Appends arrive while the persister works, in random conversation order, in bursts.
  for (let sent = 0; sent < total; ) {
    for (let burst = 1 + Math.floor(random() * 40); burst > 0 && sent < total; burst--) {
      const open = next.flatMap((s, c) => (s <= opts.perConversation ? [c] : []));
      const c = open[Math.floor(random() * open.length)]!;
      outbox.add(message(c, next[c]!++));
      sent++;
    }
    await Bun.sleep(Math.floor(random() * 3));
  }
  for (const end = Date.now() + 20_000; (await outbox.pending()) > 0 && Date.now() < end;) await Bun.sleep(10);
  await persister.stop();
  return { writer, ackedBeforeCommit, pending: await outbox.pending() };
}

describe("persister with overlap", () => {
  test("every message commits once, in seq order per conversation, with two commits in flight", async () => {
    const { writer, ackedBeforeCommit, pending } = await persistAll({ seed: 14, conversations: 12, perConversation: 150, failEvery: 0, batchSize: 20 });
    expect(pending).toBe(0);
    expect(writer.violations).toEqual([]);
    expect(ackedBeforeCommit).toEqual([]);
    expect(writer.committedIds.size).toBe(12 * 150);
    for (const seqs of writer.committed.values()) expect(seqs).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(writer.maxRunning).toBe(2); // the lanes did overlap
  });

  test("failing commits are retried before anything behind them; nothing is acknowledged uncommitted", async () => {
    const { writer, ackedBeforeCommit, pending } = await persistAll({ seed: 7, conversations: 8, perConversation: 80, failEvery: 4, batchSize: 16 });
    expect(writer.failures).toBeGreaterThan(0);
    expect(pending).toBe(0);
    expect(writer.violations).toEqual([]);
    expect(ackedBeforeCommit).toEqual([]);
    for (const seqs of writer.committed.values()) expect(seqs).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
  });

  test("a commit that ends while the next read is under way does not stall the loop", async () => {
    const outbox = new MemoryOutbox();
    let running = 0;
    const written: number[] = [];
    const writer: BatchWriter = {
      async write(batch) {
        running++;
        await Bun.sleep(80); // longer than the pause after a short batch: the next read happens while this commits
        written.push(...batch.map((m) => m.seq));
        running--;
      },
    };
    // A read made while a commit runs comes back empty only after that commit ended.
    const read = outbox.read.bind(outbox);
    outbox.read = async (consumer, count, blockMs) => {
      const entries = await read(consumer, count, blockMs);
      if (blockMs === 0 && entries.length === 0) while (running > 0) await Bun.sleep(5);
      return entries;
    };
    const persister = new PersisterActor(outbox, writer, { consumer: "p1", blockMs: 50 });
    await persister.start();
    try {
      outbox.add(message(1, 1));
      for (const end = Date.now() + 5_000; written.length < 1 && Date.now() < end;) await Bun.sleep(5);
      await Bun.sleep(50);
      outbox.add(message(1, 2));
      for (const end = Date.now() + 5_000; written.length < 2 && Date.now() < end;) await Bun.sleep(5);
      expect(written).toEqual([1, 2]);
    } finally {
      await persister.stop();
    }
  });
});
