/**
 * PostgreSQL side of chat: conversations, membership and the durable message
 * log. PostgreSQL is the truth for who belongs where and for every message
 * ever sent; Redis only caches the newest 50 and carries live events.
 */
import { and, asc, desc, eq, getTableColumns, gt, lt, sql } from "drizzle-orm";
import { rowsOf, type Db } from "../../db/client";
import { conversationMembers, conversations, messages } from "../../db/schema";
import type { ChatMessage, NewMessage } from "../../engine/types";

// Every column but the search vector, which only the search query reads.
const { search: _search, ...MESSAGE_COLUMNS } = getTableColumns(messages);
type MessageRow = Omit<typeof messages.$inferSelect, "search">;

export function toChatMessage(r: MessageRow): ChatMessage {
  const m: ChatMessage = {
    id: r.id,
    conversation_id: r.conversationId,
    seq: Number(r.seq),
    sender_id: r.senderId,
    receiver_id: r.receiverId ?? null,
    content: r.content,
    message_type: r.messageType,
    client_id: r.clientId ?? null,
    timestamp: r.timestamp.toISOString(),
    ...(r.mentions?.length ? { mentions: r.mentions } : {}),
  };
  // Optional fields only when they apply, as in the appended JSON (engine/message.ts).
  if (r.deletedAt) m.deleted = true;
  else if (r.editedAt && (r.messageType === "text" || r.messageType === "file")) Object.assign(m, { is_edited: true, edited_at: r.editedAt.toISOString() });
  if (r.refId) m.ref_id = r.refId;
  if (r.refSeq !== null && r.refSeq !== undefined) m.ref_seq = Number(r.refSeq);
  if (r.system) m.system = r.system as ChatMessage["system"];
  return m;
}

export function toRow(m: ChatMessage): typeof messages.$inferInsert {
  return {
    id: m.id,
    conversationId: m.conversation_id,
    seq: m.seq,
    senderId: m.sender_id,
    receiverId: m.receiver_id,
    content: m.content,
    messageType: m.message_type,
    clientId: m.client_id,
    timestamp: new Date(m.timestamp),
    refId: m.ref_id ?? null,
    refSeq: m.ref_seq ?? null,
    system: m.system ?? null,
    mentions: m.mentions?.length ? m.mentions : null,
  };
}

export type Membership = { kind: "direct" | "room"; role: "owner" | "admin" | "member"; peerId: string | null; clearedSeq: number };

export const directKey = (a: string, b: string) => (a < b ? `${a}:${b}` : `${b}:${a}`);

export class ChatRepo {
  constructor(readonly db: Db) {}

  /** The direct conversation of a pair, created on first use; concurrent callers get the same one. */
  async ensureDirect(a: string, b: string): Promise<{ id: string; created: boolean }> {
    const key = directKey(a, b);
    // One transaction: when a member does not exist (FK violation) no memberless conversation
    // stays behind for a later send to find and post into.
    return this.db.transaction(async (tx) => {
      const inserted = await tx.insert(conversations)
        .values({ id: Bun.randomUUIDv7(), kind: "direct", directKey: key, isPrivate: true })
        .onConflictDoNothing({ target: conversations.directKey })
        .returning({ id: conversations.id });
      const id = inserted[0]?.id ?? (await tx.select({ id: conversations.id }).from(conversations).where(eq(conversations.directKey, key)))[0]!.id;
      await tx.insert(conversationMembers)
        .values([{ conversationId: id, userId: a }, { conversationId: id, userId: b }])
        .onConflictDoNothing();
      return { id, created: inserted.length > 0 };
    });
  }

  async findDirect(a: string, b: string): Promise<string | null> {
    const [row] = await this.db.select({ id: conversations.id }).from(conversations).where(eq(conversations.directKey, directKey(a, b)));
    return row?.id ?? null;
  }

  async membership(conversationId: string, userId: string): Promise<Membership | null> {
    const rows = await this.db.execute(sql`
      select c.kind, m.role, m.cleared_seq,
        (select o.user_id from conversation_members o
          where c.kind = 'direct' and o.conversation_id = c.id and o.user_id <> ${userId} limit 1) as peer_id
      from conversation_members m join conversations c on c.id = m.conversation_id
      where m.conversation_id = ${conversationId} and m.user_id = ${userId}`);
    const r = rowsOf(rows)[0] as { kind: "direct" | "room"; role: Membership["role"]; peer_id: string | null; cleared_seq: string | number } | undefined;
    return r ? { kind: r.kind, role: r.role, peerId: r.peer_id, clearedSeq: Number(r.cleared_seq) } : null;
  }

  async memberIds(conversationId: string): Promise<string[]> {
    const rows = await this.db.select({ id: conversationMembers.userId }).from(conversationMembers)
      .where(eq(conversationMembers.conversationId, conversationId));
    return rows.map((r) => r.id);
  }

  async conversationIdsOf(userId: string): Promise<string[]> {
    const rows = await this.db.select({ id: conversationMembers.conversationId }).from(conversationMembers)
      .where(eq(conversationMembers.userId, userId));
    return rows.map((r) => r.id);
  }

  /** Highest seq PostgreSQL knows for the conversation (stored messages or the recorded counter). */
  async maxSeq(conversationId: string): Promise<number> {
    const rows = await this.db.execute(sql`
      select greatest(
        (select last_seq from conversations where id = ${conversationId}),
        (select max(seq) from messages where conversation_id = ${conversationId}), 0)::bigint as s`);
    return Number((rowsOf(rows)[0] as { s: string | number }).s);
  }

  /** Newest `limit` messages with seq < beforeSeq, ascending. */
  async before(conversationId: string, beforeSeq: number, limit: number): Promise<ChatMessage[]> {
    const rows = await this.db.select(MESSAGE_COLUMNS).from(messages)
      .where(and(eq(messages.conversationId, conversationId), lt(messages.seq, beforeSeq)))
      .orderBy(desc(messages.seq)).limit(limit);
    return rows.reverse().map(toChatMessage);
  }

  /** Messages with seq > afterSeq, ascending, at most `limit`. */
  async after(conversationId: string, afterSeq: number, limit: number): Promise<ChatMessage[]> {
    const rows = await this.db.select(MESSAGE_COLUMNS).from(messages)
      .where(and(eq(messages.conversationId, conversationId), gt(messages.seq, afterSeq)))
      .orderBy(asc(messages.seq)).limit(limit);
    return rows.map(toChatMessage);
  }

  async byId(id: string): Promise<ChatMessage | null> {
    const [row] = await this.db.select(MESSAGE_COLUMNS).from(messages).where(eq(messages.id, id));
    return row ? toChatMessage(row) : null;
  }

  /**
   * Raises a member's clear mark (and read marker) to `seq`, or hides the
   * conversation from their list until it passes `seq`. Returns the stored mark.
   */
  async markMember(conversationId: string, userId: string, what: "cleared" | "hidden", seq: number): Promise<number> {
    const member = and(eq(conversationMembers.conversationId, conversationId), eq(conversationMembers.userId, userId));
    if (what === "hidden") {
      await this.db.update(conversationMembers).set({ hiddenSeq: seq }).where(member);
      return seq;
    }
    const [row] = await this.db.update(conversationMembers).set({
      clearedSeq: sql`greatest(${conversationMembers.clearedSeq}, ${seq})`,
      lastReadSeq: sql`greatest(${conversationMembers.lastReadSeq}, ${seq})`,
    }).where(member).returning({ v: conversationMembers.clearedSeq });
    return Number(row?.v ?? seq);
  }

  /** The attachment of a deleted file message is no longer served (src/modules/files). */
  async forgetFile(conversationId: string, fileId: string) {
    await this.db.execute(sql`update files set deleted_at = now() where id = ${fileId} and conversation_id = ${conversationId} and deleted_at is null`);
  }

  async byClientId(conversationId: string, senderId: string, clientId: string): Promise<ChatMessage | null> {
    const [row] = await this.db.select(MESSAGE_COLUMNS).from(messages).where(and(
      eq(messages.conversationId, conversationId), eq(messages.senderId, senderId), eq(messages.clientId, clientId)));
    return row ? toChatMessage(row) : null;
  }

  /**
   * Redis-down path: allocates the seq from conversations.last_seq (the row
   * lock serialises senders) and stores the message in one transaction.
   */
  async appendDirectly(m: NewMessage): Promise<{ message: ChatMessage; duplicate: boolean }> {
    if (m.client_id) {
      const dup = await this.byClientId(m.conversation_id, m.sender_id, m.client_id);
      if (dup) return { message: dup, duplicate: true };
    }
    try {
      return await this.db.transaction(async (tx) => {
        const [conv] = await tx.update(conversations)
          .set({
            lastSeq: sql`greatest(${conversations.lastSeq}, coalesce((select max(seq) from messages where conversation_id = ${m.conversation_id}), 0)) + 1`,
            lastMessageAt: new Date(m.timestamp),
          })
          .where(eq(conversations.id, m.conversation_id)).returning({ lastSeq: conversations.lastSeq });
        const message: ChatMessage = { ...m, seq: Number(conv!.lastSeq) };
        await tx.insert(messages).values(toRow(message));
        await applyChanges(tx, [message], new Set([message.id]));
        await advanceOwnRead(tx, message);
        return { message, duplicate: false };
      });
    } catch (err) {
      // A concurrent retry with the same client_id won the unique index: return its message.
      const dup = m.client_id ? await this.byClientId(m.conversation_id, m.sender_id, m.client_id) : null;
      if (dup) return { message: dup, duplicate: true };
      throw err;
    }
  }

  /** Each conversation of the user with its last seq as PostgreSQL knows it (for the socket's `ready`). */
  async lastSeqs(userId: string): Promise<{ conversation_id: string; last_seq: number; last_read_seq: number }[]> {
    const rows = await this.db.select({ id: conversations.id, lastSeq: conversations.lastSeq, lastRead: conversationMembers.lastReadSeq })
      .from(conversationMembers).innerJoin(conversations, eq(conversations.id, conversationMembers.conversationId))
      .where(eq(conversationMembers.userId, userId));
    return rows.map((r) => ({ conversation_id: r.id, last_seq: Number(r.lastSeq), last_read_seq: Number(r.lastRead) }));
  }

  /** Raises last_read_seq (never lowers it). Returns the stored value and whether this call moved it. */
  async markRead(conversationId: string, userId: string, seq: number): Promise<{ seq: number; advanced: boolean }> {
    const member = and(eq(conversationMembers.conversationId, conversationId), eq(conversationMembers.userId, userId));
    const [moved] = await this.db.update(conversationMembers).set({ lastReadSeq: seq })
      .where(and(member, lt(conversationMembers.lastReadSeq, seq))).returning({ v: conversationMembers.lastReadSeq });
    if (moved) return { seq: Number(moved.v), advanced: true };
    const [row] = await this.db.select({ v: conversationMembers.lastReadSeq }).from(conversationMembers).where(member);
    return { seq: Number(row?.v ?? 0), advanced: false };
  }
}

/** A sender has read their own message: raises their marker to its seq (the persister does it per batch). */
export async function advanceOwnRead(tx: Pick<Db, "update">, m: Pick<ChatMessage, "conversation_id" | "sender_id" | "seq">) {
  await tx.update(conversationMembers)
    .set({ lastReadSeq: sql`greatest(${conversationMembers.lastReadSeq}, ${m.seq})` })
    .where(and(eq(conversationMembers.conversationId, m.conversation_id), eq(conversationMembers.userId, m.sender_id)));
}

/**
 * Edit and delete events written by this transaction (`inserted`: ids its
 * insert returned) are applied to their target rows. An event is applied in
 * the transaction that inserts it, so exactly once: a replayed batch inserts
 * nothing and changes nothing. Edits first, deletes last, so a delete always
 * wins; an edit never touches a deleted row (nor one a later edit reached).
 */
export async function applyChanges(tx: Pick<Db, "execute">, batch: ChatMessage[], inserted: Set<string>) {
  const fresh = batch.filter((m) => inserted.has(m.id) && m.ref_id && (m.message_type === "edit" || m.message_type === "delete"));
  if (fresh.length === 0) return;
  const edits = fresh.filter((m) => m.message_type === "edit").sort((a, b) => a.seq - b.seq)
    .map((m) => ({ ref_id: m.ref_id, content: m.content, at: m.timestamp }));
  const deletes = fresh.filter((m) => m.message_type === "delete").map((m) => ({ ref_id: m.ref_id, at: m.timestamp }));
  for (const e of edits) {
    await tx.execute(sql`update messages set content = ${e.content}, edited_at = ${e.at}::timestamptz
      where id = ${e.ref_id} and deleted_at is null and (edited_at is null or edited_at <= ${e.at}::timestamptz)`);
  }
  if (deletes.length === 0) return;
  const json = JSON.stringify(deletes);
  await tx.execute(sql`update messages t set content = '', deleted_at = d.at, edited_at = null
    from jsonb_to_recordset(${json}::jsonb) as d(ref_id uuid, at timestamptz) where t.id = d.ref_id and t.deleted_at is null`);
  // The content also lives in the edits of the deleted message: blank them too.
  await tx.execute(sql`update messages t set content = ''
    from jsonb_to_recordset(${json}::jsonb) as d(ref_id uuid) where t.ref_id = d.ref_id and t.message_type = 'edit' and t.content <> ''`);
}

