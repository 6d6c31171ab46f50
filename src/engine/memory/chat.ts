/** In-process ChatStore; see the port in ../types.ts for the guarantees. */
import { RateLimitedError, SeqMissingError } from "../errors";
import { IDEMPOTENCY_TTL_SEC, chatChannel, messageEvent } from "../names";
import { RECENT_LIMIT, type AppendOptions, type ChatMessage, type ChatStore, type NewMessage } from "../types";
import type { MemoryBroker } from "./broker";
import { ExpiringMap, type MemoryRateLimiter } from "./misc";
import type { MemoryOutbox } from "./outbox";

export class MemoryChatStore implements ChatStore {
  private readonly seqs = new Map<string, number>();
  /** Message JSON per conversation, oldest first; stored serialized so callers never share objects with the store. */
  private readonly lists = new Map<string, string[]>();
  private readonly sent = new ExpiringMap<string>();
  private readonly memberships = new Map<string, Set<string>>();

  constructor(
    private readonly outbox: MemoryOutbox,
    private readonly broker: MemoryBroker,
    private readonly limiter: MemoryRateLimiter,
  ) {}

  // Synchronous body: nothing can interleave, which is what the Lua script buys on Redis.
  async append(m: NewMessage, opts: AppendOptions = {}): Promise<{ message: ChatMessage; duplicate: boolean }> {
    const cid = m.conversation_id;
    const recordKey = m.client_id === null ? null : JSON.stringify([cid, m.sender_id, m.client_id]);
    const prior = recordKey === null ? undefined : this.sent.get(recordKey);
    if (prior !== undefined) return { message: JSON.parse(prior) as ChatMessage, duplicate: true };
    const last = this.seqs.get(cid);
    if (last === undefined) throw new SeqMissingError(cid);
    if (opts.limit) {
      const decision = this.limiter.takeNow(opts.limit.scope, opts.limit.id, opts.limit.rule);
      if (!decision.allowed) throw new RateLimitedError(decision.retryAfterMs);
    }
    const { id, conversation_id: _cid, ...rest } = m;
    // The same key order as the Redis engine's JSON: id, conversation_id, seq, then the rest as given.
    const message: ChatMessage = { id, conversation_id: cid, seq: last + 1, ...rest };
    const json = JSON.stringify(message);
    this.seqs.set(cid, message.seq);
    const list = this.lists.get(cid) ?? [];
    list.push(json);
    if (list.length > RECENT_LIMIT) list.splice(0, list.length - RECENT_LIMIT);
    this.lists.set(cid, list);
    this.outbox.add(message);
    if (recordKey !== null) this.sent.set(recordKey, json, IDEMPOTENCY_TTL_SEC * 1000);
    this.broker.publishNow(chatChannel(cid), messageEvent(json));
    return { message: JSON.parse(json) as ChatMessage, duplicate: false };
  }

  async seedSeq(conversationId: string, atLeast: number): Promise<void> {
    if (!Number.isSafeInteger(atLeast) || atLeast < 0) throw new RangeError(`seedSeq: bad seq ${atLeast}`);
    const cur = this.seqs.get(conversationId);
    if (cur === undefined || cur < atLeast) this.seqs.set(conversationId, atLeast);
  }

  async recent(conversationId: string): Promise<ChatMessage[] | null> {
    const list = this.lists.get(conversationId);
    if (!list || list.length === 0) return null;
    return list.map((s) => JSON.parse(s) as ChatMessage);
  }

  async refill(conversationId: string, messages: ChatMessage[]): Promise<boolean> {
    const last = messages.slice(-RECENT_LIMIT);
    if (last.length === 0 || this.lists.has(conversationId)) return false;
    const cur = this.seqs.get(conversationId);
    if (cur !== undefined && cur > last[last.length - 1]!.seq) return false;
    this.lists.set(conversationId, last.map((m) => JSON.stringify(m)));
    return true;
  }

  async replaceRecent(conversationId: string, changes: { from: ChatMessage; to: ChatMessage }[]): Promise<number> {
    const list = this.lists.get(conversationId);
    if (!list) return 0;
    const wanted = new Map(changes.map((c) => [JSON.stringify(c.from), JSON.stringify(c.to)]));
    let n = 0;
    list.forEach((v, i) => {
      const to = wanted.get(v);
      if (to !== undefined) (list[i] = to), n++;
    });
    return n;
  }

  async redactSent(m: ChatMessage): Promise<void> {
    if (m.client_id !== null) this.sent.replace(JSON.stringify([m.conversation_id, m.sender_id, m.client_id]), JSON.stringify(m));
  }

  async drop(conversationId: string): Promise<void> {
    this.lists.delete(conversationId);
    this.seqs.delete(conversationId);
  }

  async addMember(conversationId: string, userIds: string[]): Promise<void> {
    for (const uid of userIds) {
      let set = this.memberships.get(uid);
      if (!set) this.memberships.set(uid, (set = new Set()));
      set.add(conversationId);
    }
  }

  async removeMember(conversationId: string, userId: string): Promise<void> {
    const set = this.memberships.get(userId);
    set?.delete(conversationId);
    if (set && set.size === 0) this.memberships.delete(userId);
  }

  async conversationsOf(userId: string): Promise<string[]> {
    return [...(this.memberships.get(userId) ?? [])];
  }
}
