/** In-process outbox with the stream's delivery and ack semantics; see the port in ../types.ts. */
import { OUTBOX_SCAN_LIMIT, type ChatMessage, type Outbox, type OutboxEntry } from "../types";
import { Signal } from "./signal";

const MAX_BLOCK_MS = 30_000;

type Entry = { id: string; json: string; consumer: string | null; deliveredAt: number };

export class MemoryOutbox implements Outbox {
  /** Unacknowledged entries in insertion (= id) order. */
  private readonly entries = new Map<string, Entry>();
  /** Ids never delivered, oldest first. */
  private readonly undelivered: string[] = [];
  private readonly arrived = new Signal();
  private lastMs = 0;
  private lastSeq = 0;
  private closed = false;

  /** Adds a message (the append path); ids look like stream ids and increase. */
  add(message: ChatMessage): void {
    const now = Date.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.lastSeq = 0;
    } else {
      this.lastSeq++;
    }
    const id = `${this.lastMs}-${this.lastSeq}`;
    this.entries.set(id, { id, json: JSON.stringify(message), consumer: null, deliveredAt: 0 });
    this.undelivered.push(id);
    this.arrived.notifyAll();
  }

  async ensureGroup(): Promise<void> {}

  async read(consumer: string, count: number, blockMs: number): Promise<OutboxEntry[]> {
    const deadline = Date.now() + Math.min(Math.max(0, blockMs), MAX_BLOCK_MS);
    for (;;) {
      const taken = this.take(consumer, count);
      const left = deadline - Date.now();
      if (taken.length > 0 || left <= 0 || this.closed) return taken;
      await this.arrived.wait(left);
    }
  }

  private take(consumer: string, count: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    while (out.length < count && this.undelivered.length > 0) {
      const entry = this.entries.get(this.undelivered.shift()!);
      if (!entry) continue; // acknowledged before delivery
      entry.consumer = consumer;
      entry.deliveredAt = Date.now();
      out.push({ id: entry.id, message: JSON.parse(entry.json) as ChatMessage });
    }
    return out;
  }

  async claimStale(consumer: string, minIdleMs: number, count: number): Promise<OutboxEntry[]> {
    const now = Date.now();
    const out: OutboxEntry[] = [];
    for (const entry of this.entries.values()) {
      if (out.length >= count) break;
      if (entry.consumer === null || now - entry.deliveredAt < minIdleMs) continue;
      entry.consumer = consumer;
      entry.deliveredAt = now;
      out.push({ id: entry.id, message: JSON.parse(entry.json) as ChatMessage });
    }
    return out;
  }

  async ack(ids: string[]): Promise<void> {
    // Ids still in `undelivered` are skipped by take() once their entry is gone.
    for (const id of ids) this.entries.delete(id);
  }

  async oldestAgeMs(now: number): Promise<number | null> {
    const first = this.entries.keys().next();
    return first.done ? null : Math.max(0, now - Number(first.value.split("-")[0]));
  }

  async pending(): Promise<number> {
    return this.entries.size;
  }

  async unpersisted(conversationId: string, afterSeq: number, max: number): Promise<ChatMessage[]> {
    const out: ChatMessage[] = [];
    let seen = 0;
    for (const entry of this.entries.values()) {
      if (++seen > OUTBOX_SCAN_LIMIT) break;
      const m = JSON.parse(entry.json) as ChatMessage;
      if (m.conversation_id === conversationId && m.seq > afterSeq) out.push(m);
    }
    return out.sort((a, b) => a.seq - b.seq).slice(0, max);
  }

  close(): void {
    this.closed = true;
    this.arrived.notifyAll();
  }
}
