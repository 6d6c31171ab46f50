/**
 * Changing what was said: edit, delete, clear my history, leave (hide) a
 * direct conversation. Edits and deletes are events of the seq log (see
 * fold.ts): appended like a message, so delivered live, replayed by resume,
 * and applied to the original row by the persister exactly once. The cached
 * copy in Redis is rewritten at once, so a deleted message's content leaves
 * Redis with the delete.
 */
import { BadRequest, Forbidden, NotFound } from "../../errors";
import { EngineUnavailableError } from "../../engine/errors";
import type { ChatMessage, Engine } from "../../engine/types";
import type { RateLimit } from "../../plugins/rate-limit";
import { log } from "../../lib/log";
import { MAX_CONTENT } from "./model";
import type { ChatRepo, Membership } from "./repo";
import type { ChatService } from "./service";
import type { UserEvent } from "./events";
import { applyEvents, isEvent, tombstone } from "./fold";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ChangeOptions = { editWindowSec: number };

export class MessageChanges {
  constructor(
    private readonly chat: ChatService,
    private readonly repo: ChatRepo,
    private readonly engine: Engine,
    private readonly limit: RateLimit,
    private readonly opts: ChangeOptions,
  ) {}

  /** The sender's new content for a text message, within the edit window. */
  async edit(userId: string, messageId: string, input: string) {
    const content = input.trim();
    if (content.length === 0 || content.length > MAX_CONTENT) {
      throw new BadRequest(`content must be 1..${MAX_CONTENT} characters after trimming`, [{ field: "content", message: `length ${content.length}` }]);
    }
    await this.limit("send", userId);
    const { message, membership } = await this.locate(userId, messageId);
    if (message.sender_id !== userId) throw new Forbidden("only the sender can edit a message");
    if (message.message_type !== "text") throw new BadRequest("only text messages can be edited", [{ field: "id", message: `a ${message.message_type} message` }]);
    if (Date.now() - Date.parse(message.timestamp) > this.opts.editWindowSec * 1000) {
      throw new Forbidden(`a message can be edited for ${this.opts.editWindowSec} s after it was sent`);
    }
    const event = await this.appendEvent(message, membership, userId, "edit", content);
    return { message: { ...message, content, is_edited: true, edited_at: event.timestamp } };
  }

  /** By the sender, or by a room's owner or admin for any message of the room. */
  async remove(userId: string, messageId: string) {
    await this.limit("send", userId);
    const { message, membership } = await this.locate(userId, messageId);
    const moderator = membership.kind === "room" && membership.role !== "member";
    if (isEvent(message)) throw new BadRequest("edit and delete events cannot be deleted", [{ field: "id", message: `a ${message.message_type} event` }]);
    if (!moderator && (message.sender_id !== userId || message.message_type === "system")) {
      throw new Forbidden("only the sender, or a room's owner or admin, can delete a message");
    }
    await this.appendEvent(message, membership, userId, "delete", "");
    const gone = tombstone(message);
    await this.engine.chat.redactSent(gone).catch((err) => {
      if (!(err instanceof EngineUnavailableError)) throw err;
    });
    if (message.message_type === "file") await this.forgetAttachment(message);
    return { message: gone };
  }

  /** Hides everything up to the conversation's current seq, for the caller only. */
  async clearHistory(userId: string, conversationId: string) {
    await this.chat.requireMember(conversationId, userId, true);
    const cleared = await this.repo.markMember(conversationId, userId, "cleared", await this.currentSeq(conversationId));
    this.chat.forgetMembership(conversationId, userId);
    await this.tellUser(userId, { type: "conversation.cleared", conversation_id: conversationId, cleared_seq: cleared });
    return { conversation_id: conversationId, cleared_seq: cleared };
  }

  /** A direct conversation leaves the caller's list until a new message arrives (rooms are left, not hidden). */
  async hide(userId: string, conversationId: string) {
    const m = await this.chat.requireMember(conversationId, userId, true);
    if (m.kind !== "direct") throw new BadRequest("only a direct conversation can be left this way; leave a room with POST /rooms/{id}/leave", [{ field: "id", message: "a room" }]);
    const seq = await this.repo.markMember(conversationId, userId, "hidden", await this.currentSeq(conversationId));
    await this.tellUser(userId, { type: "conversation.hidden", conversation_id: conversationId, until_seq: seq });
    return { conversation_id: conversationId, hidden: true as const };
  }

  /**
   * The message as it reads now, and the caller's membership; 404 for a
   * message the caller cannot see (not a member, cleared, deleted). Not yet
   * in PostgreSQL (the persister lags by milliseconds): looked up in the
   * recent lists of the caller's conversations.
   */
  private async locate(userId: string, messageId: string): Promise<{ message: ChatMessage; membership: Membership }> {
    if (!UUID.test(messageId)) throw new NotFound("message");
    let found = await this.repo.byId(messageId);
    const recent = found ? await this.recent(found.conversation_id) : await this.findRecent(userId, messageId);
    found = recent.find((m) => m.id === messageId) ?? found;
    if (!found) throw new NotFound("message");
    const membership = await this.chat.requireMember(found.conversation_id, userId, true).catch((err) => {
      throw err instanceof NotFound ? new NotFound("message") : err;
    });
    const [message] = applyEvents([found], recent);
    if (message!.deleted || message!.seq <= membership.clearedSeq) throw new NotFound("message");
    return { message: message!, membership };
  }

  private async findRecent(userId: string, messageId: string): Promise<ChatMessage[]> {
    const ids = await this.repo.conversationIdsOf(userId);
    const lists = await Promise.all(ids.map((id) => this.recent(id)));
    return lists.find((list) => list.some((m) => m.id === messageId)) ?? [];
  }

  private async recent(conversationId: string): Promise<ChatMessage[]> {
    try {
      return (await this.engine.chat.recent(conversationId)) ?? [];
    } catch (err) {
      if (err instanceof EngineUnavailableError) return [];
      throw err;
    }
  }

  private async appendEvent(target: ChatMessage, membership: Membership, userId: string, kind: "edit" | "delete", content: string) {
    const { message } = await this.chat.append({
      id: Bun.randomUUIDv7(), conversation_id: target.conversation_id, sender_id: userId,
      receiver_id: membership.kind === "direct" ? membership.peerId : null,
      content, message_type: kind, client_id: null, timestamp: new Date().toISOString(),
      ref_id: target.id, ref_seq: target.seq,
    });
    await this.rewriteCached(target.conversation_id);
    return message;
  }

  /**
   * The cached list with its own events applied, written back entry by entry
   * (compare-and-set): a concurrent change makes an entry differ, and the
   * next round reads again and folds that change in too.
   */
  private async rewriteCached(conversationId: string) {
    try {
      for (let round = 0; round < 5; round++) {
        const list = (await this.engine.chat.recent(conversationId)) ?? [];
        const folded = applyEvents(list, list);
        const changes = list.flatMap((from, i) => (folded[i] !== from ? [{ from, to: folded[i]! }] : []));
        if (changes.length === 0 || (await this.engine.chat.replaceRecent(conversationId, changes)) === changes.length) return;
      }
      log.warn({ conversation_id: conversationId }, "cached messages still changing after 5 rounds; readers apply the events themselves");
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
    }
  }

  private async forgetAttachment(message: ChatMessage) {
    let fileId: unknown;
    try {
      fileId = (JSON.parse(message.content) as { file_id?: unknown }).file_id;
    } catch {
      return;
    }
    if (typeof fileId === "string" && UUID.test(fileId)) await this.repo.forgetFile(message.conversation_id, fileId);
  }

  /** The newest seq of the conversation: Redis' list ends at it; PostgreSQL when Redis has none. */
  private async currentSeq(conversationId: string): Promise<number> {
    const cached = (await this.recent(conversationId)).at(-1)?.seq ?? 0;
    return Math.max(cached, await this.repo.maxSeq(conversationId));
  }

  private async tellUser(userId: string, event: UserEvent) {
    try {
      await this.chat.notifyUser(userId, event);
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
    }
  }
}
