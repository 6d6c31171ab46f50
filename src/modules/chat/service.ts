/**
 * Chat use cases shared by HTTP and WebSocket. Where each piece lives:
 * - Redis (engine.chat): the seq counter, the newest 50 messages, the
 *   idempotency records and the chat:persist outbox; one Lua script appends.
 * - PostgreSQL (ChatRepo): conversations, members, read markers and every
 *   message, written by the persister from the outbox.
 * When Redis is unreachable, messages go straight to PostgreSQL with the seq
 * taken from conversations.last_seq, and only local sockets get them.
 */
import { BadRequest, NotFound, ServiceUnavailable, TooManyRequests } from "../../errors";
import { EngineFailoverError, EngineUnavailableError, RateLimitedError, SeqMissingError } from "../../engine/errors";
import { rateLimited } from "../../plugins/metrics";
import { isDatabaseUnavailable, isForeignKeyViolation } from "../../db/errors";
import type { AppendOptions, ChatMessage, Engine, NewMessage } from "../../engine/types";
import { chatChannel, userChannel } from "../../engine/names";
import type { RateLimit } from "../../plugins/rate-limit";
import { log } from "../../lib/log";
import type { ChatEvent, LocalDelivery, UserEvent } from "./events";
import { MAX_CONTENT, type SendInput } from "./model";
import type { ChatRepo, Membership } from "./repo";
import { listConversations } from "./list";
import { chatMetrics } from "./metrics";
import { applyEvents } from "./fold";
import { mentionedMembers } from "./mentions";
import { MembershipCache } from "./membership-cache";

export class ChatService {
  private local: LocalDelivery | null = null;
  /** Told of every new (not duplicate) message after it was accepted, e.g. to queue notifications. */
  private readonly sentListeners: ((m: ChatMessage) => Promise<void>)[] = [];
  private readonly members: MembershipCache;
  /** Conversations written straight to PostgreSQL: Redis' counter may be behind when it comes back. */
  private readonly writtenWithoutRedis = new Set<string>();

  constructor(private readonly repo: ChatRepo, private readonly engine: Engine, private readonly limit: RateLimit) {
    this.members = new MembershipCache(repo);
  }

  /** Ids of the user's conversations (PostgreSQL). */
  conversationIdsOf(userId: string): Promise<string[]> {
    return this.repo.conversationIdsOf(userId);
  }

  /** Per conversation of the user: its last seq and the user's read marker (the `ready` frame). */
  lastSeqs(userId: string) {
    return this.repo.lastSeqs(userId);
  }

  /** The direct conversation between two users, if it exists. */
  directWith(userId: string, peerId: string): Promise<string | null> {
    return this.repo.findDirect(userId, peerId);
  }

  /** The user's conversations with last message, unread count and the peer's presence. */
  listConversations(userId: string) {
    return listConversations(this.repo, this.engine.presence, userId);
  }

  /** The socket layer registers itself (through the composition root) so the Redis-down path can still reach local sockets. */
  attachLocalDelivery(local: LocalDelivery) {
    this.local = local;
  }

  /** The composition root registers what must hear of each new message (the notification queue). */
  onSent(listener: (m: ChatMessage) => Promise<void>) {
    this.sentListeners.push(listener);
  }

  /**
   * Membership or 404: non-members must not learn that a conversation exists.
   * `fresh` skips the 5 s cache (roles for admin actions). A clear mark reaches the cache of
   * this instance at once and of every instance holding the user's sockets (hub.ts).
   */
  requireMember(conversationId: string, userId: string, fresh = false): Promise<Membership> {
    return this.members.require(conversationId, userId, fresh);
  }

  forgetMembership(conversationId: string, userId: string) {
    this.members.forget(conversationId, userId);
  }

  /** Resolves `to` (creating the direct conversation on first use) or checks membership of `conversation_id`. */
  async resolveTarget(userId: string, input: { to?: string; conversation_id?: string }): Promise<{ conversationId: string; receiverId: string | null }> {
    if (input.to && input.conversation_id) throw new BadRequest("give either `to` or `conversation_id`, not both", [{ field: "to", message: "conflicts with conversation_id" }]);
    if (input.to) {
      if (input.to === userId) throw new BadRequest("you cannot send a direct message to yourself", [{ field: "to", message: "is yourself" }]);
      const existing = await this.repo.findDirect(userId, input.to);
      if (existing) return { conversationId: existing, receiverId: input.to };
      const { id, created } = await this.createDirect(userId, input.to);
      if (created) log.debug({ conversation: id }, "direct conversation created");
      return { conversationId: id, receiverId: input.to };
    }
    if (!input.conversation_id) throw new BadRequest("`to` or `conversation_id` is required", [{ field: "to", message: "required" }]);
    const m = await this.requireMember(input.conversation_id, userId);
    return { conversationId: input.conversation_id, receiverId: m.kind === "direct" ? m.peerId : null };
  }

  private async createDirect(userId: string, peerId: string) {
    let res;
    try {
      res = await this.repo.ensureDirect(userId, peerId);
    } catch (err) {
      if (isForeignKeyViolation(err)) {
        throw new NotFound("user");
      }
      throw err;
    }
    await this.joined(res.id, [userId, peerId], "direct");
    return res;
  }

  /** Records new members in Redis and tells their sockets (on any instance) to follow the conversation. */
  async joined(conversationId: string, userIds: string[], kind: "direct" | "room") {
    try {
      await this.engine.chat.addMember(conversationId, userIds);
      await Promise.all(userIds.map((u) => this.notifyUser(u, { type: "conversation", conversation_id: conversationId, kind })));
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
    }
  }

  async left(conversationId: string, userId: string, reason: "left" | "removed" | "deleted" = "left") {
    this.forgetMembership(conversationId, userId);
    try {
      await this.engine.chat.removeMember(conversationId, userId);
      await this.notifyUser(userId, { type: "conversation.left", conversation_id: conversationId, reason });
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
    }
  }

  /**
   * `opts.id` lets a socket know its own message's id before the broker echoes it back. `opts.unlimited`
   * is for messages the server posts on a user's behalf (a processed file): the upload was limited already.
   */
  async send(userId: string, input: SendInput, opts: { id?: string; messageType?: NewMessage["message_type"]; unlimited?: boolean } = {}): Promise<{ message: ChatMessage; duplicate: boolean }> {
    const content = input.content.trim();
    if (content.length === 0 || content.length > MAX_CONTENT) {
      throw new BadRequest(`content must be 1..${MAX_CONTENT} characters after trimming`, [{ field: "content", message: `length ${content.length}` }]);
    }
    // The send limit is taken by the append itself (one Redis round trip); a limiter without known buckets takes it here.
    const rule = opts.unlimited ? undefined : this.limit.bucket?.("send");
    if (!opts.unlimited && !rule) await this.limit("send", userId);
    const { conversationId, receiverId } = await this.resolveTarget(userId, input);
    const draft: NewMessage = {
      id: opts.id ?? Bun.randomUUIDv7(),
      conversation_id: conversationId,
      sender_id: userId,
      receiver_id: receiverId,
      content,
      message_type: opts.messageType ?? "text",
      client_id: input.client_id ?? null,
      timestamp: new Date().toISOString(),
    };
    if (receiverId === null && draft.message_type === "text") {
      const mentions = await this.mentions(conversationId, userId, content);
      if (mentions.length) draft.mentions = mentions;
    }
    const res = await this.append(draft, rule ? { limit: { scope: "send", id: userId, rule } } : {});
    // The message is stored: a listener that fails (Redis down) costs its side effect, never the send.
    if (!res.duplicate) for (const listener of this.sentListeners) await listener(res.message).catch((err) => log.warn({ err, message: res.message.id }, "after-send listener failed"));
    chatMetrics.sent.inc({ path: res.path, duplicate: String(res.duplicate) });
    return { message: res.message, duplicate: res.duplicate };
  }

  /**
   * A line the server writes into a room (joined, removed, renamed, ...). The change it
   * reports is already made: failing to write the line is logged, not reported to the caller.
   */
  async postSystem(conversationId: string, system: NonNullable<ChatMessage["system"]>, content: string) {
    try {
      await this.append({
        id: Bun.randomUUIDv7(), conversation_id: conversationId, sender_id: system.actor_id, receiver_id: null,
        content, message_type: "system", client_id: null, timestamp: new Date().toISOString(), system,
      });
    } catch (err) {
      log.warn({ err, conversation_id: conversationId, kind: system.kind }, "system message not written");
    }
  }

  /** Next seq of the log for a message or an event (edit, delete): Redis, or PostgreSQL while Redis is down. */
  async append(draft: NewMessage, options: AppendOptions = {}): Promise<{ message: ChatMessage; duplicate: boolean; path: string }> {
    try {
      return await this.appendOrFallBack(draft, options);
    } catch (err) {
      if (err instanceof RateLimitedError) {
        rateLimited.inc({ scope: "send" });
        throw new TooManyRequests(err.retryAfterMs, "messages");
      }
      // A Redis Cluster failing over: writing to PostgreSQL around it could reuse a seq it acknowledged.
      if (err instanceof EngineFailoverError) throw new ServiceUnavailable("chat storage is failing over; retry in a few seconds (with the same client_id)");
      throw err;
    }
  }

  /** With PostgreSQL unreachable a message still goes out (into Redis), naming nobody: mentions need the member list. */
  private async mentions(conversationId: string, userId: string, content: string): Promise<string[]> {
    try {
      return await mentionedMembers(this.repo.db, conversationId, userId, content);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      log.warn({ conversation: conversationId }, "mentions not resolved: PostgreSQL is unreachable");
      return [];
    }
  }

  private async appendOrFallBack(draft: NewMessage, options: AppendOptions): Promise<{ message: ChatMessage; duplicate: boolean; path: string }> {
    try {
      const cid = draft.conversation_id;
      if (this.writtenWithoutRedis.has(cid)) {
        await this.engine.chat.seedSeq(cid, await this.repo.maxSeq(cid));
        this.writtenWithoutRedis.delete(cid);
      }
      try {
        return { ...(await this.engine.chat.append(draft, options)), path: "redis" };
      } catch (err) {
        if (!(err instanceof SeqMissingError)) throw err;
        // Redis lost the counter (restart, eviction): never reuse a seq PostgreSQL already has.
        await this.engine.chat.seedSeq(draft.conversation_id, await this.repo.maxSeq(draft.conversation_id));
        return { ...(await this.engine.chat.append(draft, options)), path: "redis" };
      }
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
      this.writtenWithoutRedis.add(draft.conversation_id);
      const res = await this.repo.appendDirectly(draft);
      if (!res.duplicate) this.local?.toConversation(draft.conversation_id, { type: "message", message: res.message });
      return { ...res, path: "postgres" };
    }
  }

  /**
   * Newest `limit` messages before `beforeSeq` (ascending). The Redis list
   * serves the newest page; older pages, and everything when Redis is down or
   * was flushed, come from PostgreSQL. Seqs are contiguous from 1, so
   * has_more is simply "the first returned seq is above 1".
   */
  async history(userId: string, conversationId: string, beforeSeq: number | undefined, limit: number) {
    const { clearedSeq } = await this.requireMember(conversationId, userId);
    const upper = beforeSeq ?? Number.MAX_SAFE_INTEGER;
    let all: ChatMessage[] = [];
    try {
      all = await this.cachedRecent(conversationId);
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
    }
    const cached = all.filter((m) => m.seq < upper);
    let page = cached.slice(-limit);
    if (page.length < limit) {
      const below = page.length ? page[0]!.seq : upper;
      const older = await this.repo.before(conversationId, below, limit - page.length);
      page = [...older, ...page];
      // PostgreSQL lags the outbox under load: take what it lacks from there rather than return a holed page.
      const top = page.at(-1)?.seq ?? 0;
      if (page.length && top - page[0]!.seq + 1 !== page.length) {
        const waiting = await this.unpersisted(conversationId, page[0]!.seq - 1, top - page[0]!.seq + 1);
        page = consecutiveRun([...page, ...waiting], top - limit, limit, top);
      }
    }
    // What the caller cleared is gone for them; edits and deletes PostgreSQL has not applied yet are applied here.
    page = applyEvents(page.filter((m) => m.seq > clearedSeq), all);
    return { conversation_id: conversationId, messages: page, has_more: page.length > 0 && page[0]!.seq > clearedSeq + 1 };
  }

  /** The outbox's not-yet-persisted messages after `afterSeq` (none while Redis is unreachable). */
  private async unpersisted(conversationId: string, afterSeq: number, max: number): Promise<ChatMessage[]> {
    try {
      return await this.engine.outbox.unpersisted(conversationId, afterSeq, max);
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
      return [];
    }
  }

  /** The Redis list, refilled from PostgreSQL when it is missing (after a flush or restart). */
  async cachedRecent(conversationId: string): Promise<ChatMessage[]> {
    const recent = await this.engine.chat.recent(conversationId);
    if (recent) return recent;
    const fromDb = await this.repo.before(conversationId, Number.MAX_SAFE_INTEGER, 50);
    if (fromDb.length) await this.engine.chat.refill(conversationId, fromDb);
    return fromDb;
  }

  /** Messages after `afterSeq` in order, for `resume`: Redis when it covers the gap, PostgreSQL otherwise. */
  async since(userId: string, conversationId: string, from: number, max: number): Promise<ChatMessage[]> {
    const { clearedSeq } = await this.requireMember(conversationId, userId);
    const afterSeq = Math.max(from, clearedSeq);
    let cached: ChatMessage[] = [];
    try {
      cached = (await this.engine.chat.recent(conversationId)) ?? [];
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
    }
    if (cached.length && cached[0]!.seq <= afterSeq + 1) return cached.filter((m) => m.seq > afterSeq).slice(0, max);
    const fromDb = await this.repo.after(conversationId, afterSeq, max);
    // Messages still in the outbox are in Redis but not yet in PostgreSQL: the recent list
    // has the newest 50, the outbox the rest (a lagging persister, a crashed instance's batch).
    const known = [...fromDb, ...cached.filter((m) => m.seq > afterSeq)];
    const run = consecutiveRun(known, afterSeq, max);
    const newest = known.reduce((top, m) => Math.max(top, m.seq), afterSeq);
    if (run.length === max || run.length === newest - afterSeq) return run;
    // A replay must never skip a message: it stops at any hole still left.
    return consecutiveRun([...known, ...(await this.unpersisted(conversationId, afterSeq, max))], afterSeq, max);
  }

  /** Every member's sockets hear a read event: only a marker that moved is published, and calls are limited per user. */
  async markRead(userId: string, conversationId: string, seq: number) {
    await this.limit("read", userId);
    await this.requireMember(conversationId, userId);
    const { seq: stored, advanced } = await this.repo.markRead(conversationId, userId, seq);
    if (advanced) await this.publish(conversationId, { type: "read", conversation_id: conversationId, user_id: userId, seq: stored });
    return { conversation_id: conversationId, last_read_seq: stored };
  }

  async typing(userId: string, conversationId: string) {
    await this.requireMember(conversationId, userId);
    await this.limit("typing", `${userId}:${conversationId}`);
    await this.publish(conversationId, { type: "typing", conversation_id: conversationId, user_id: userId });
  }

  /** Publishes to every instance; with Redis down, to this instance's sockets only. */
  async publish(conversationId: string, event: ChatEvent) {
    try {
      await this.engine.broker.publish(chatChannel(conversationId), JSON.stringify(event));
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
      this.local?.toConversation(conversationId, event);
    }
  }

  async notifyUser(userId: string, event: UserEvent) {
    await this.engine.broker.publish(userChannel(userId), JSON.stringify(event));
  }
}

/**
 * Consecutive seqs within (afterSeq, afterSeq + max], ascending and without a hole: from afterSeq + 1
 * up to the first missing one, or, given `top`, from `top` down to the first missing one.
 */
function consecutiveRun(messages: ChatMessage[], afterSeq: number, max: number, top?: number): ChatMessage[] {
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  const run: ChatMessage[] = [];
  if (top === undefined) {
    for (let seq = afterSeq + 1; run.length < max && bySeq.has(seq); seq++) run.push(bySeq.get(seq)!);
    return run;
  }
  for (let seq = top; seq > afterSeq && bySeq.has(seq); seq--) run.unshift(bySeq.get(seq)!);
  return run;
}
