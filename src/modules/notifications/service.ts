/**
 * Reading notifications, marking them read, and muting a conversation.
 * Pages are ordered unread first, then newest first; the cursor is the
 * last row's (read flag, id), so a page boundary never skips or repeats a
 * row while new notifications arrive.
 */
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { rowsOf, type Db } from "../../db/client";
import { conversationMembers, notifications } from "../../db/schema";
import { BadRequest } from "../../errors";
import type { ChatService } from "../chat/service";
import { avatarUrl } from "../users/present";
import { currentExcerpt, unreadCount } from "./jobs";
import type { NotificationsModel } from "./model";

/** What the database keeps for "muted until unmuted": far enough never to pass. */
const FOREVER = new Date("9999-12-31T00:00:00Z");

type Row = {
  id: string; kind: "mention" | "direct"; conversation_id: string; message_id: string; seq: string | number; excerpt: string;
  created_at: Date | string; read_at: Date | string | null; sender_id: string | null; username: string | null;
  m_content: string | null; m_type: string | null; m_deleted_at: Date | string | null;
  display_name: string | null; avatar_key: string | null; avatar_updated_at: Date | string | null;
};

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

export class NotificationsService {
  constructor(private readonly db: Db, private readonly chat: ChatService) {}

  async list(userId: string, limit: number, cursor?: string) {
    const [flag, after] = cursor ? [Number(cursor[0]), cursor.slice(2)] : [null, null];
    const read = sql`(n.read_at is not null)::int`;
    const page = flag === null ? sql`true` : sql`(${read} > ${flag} or (${read} = ${flag} and n.id < ${after}))`;
    const rows = rowsOf(await this.db.execute(sql`
      select n.id, n.kind, n.conversation_id, n.message_id, n.seq, n.excerpt, n.created_at, n.read_at,
        n.sender_id, u.username, u.display_name, u.avatar_key, u.avatar_updated_at,
        m.content as m_content, m.message_type as m_type, m.deleted_at as m_deleted_at
      from notifications n left join users u on u.id = n.sender_id left join messages m on m.id = n.message_id
      where n.user_id = ${userId} and ${page}
      order by (n.read_at is not null), n.id desc
      limit ${limit + 1}`)) as Row[];
    const more = rows.length > limit;
    const shown = rows.slice(0, limit);
    const last = shown[shown.length - 1];
    return {
      notifications: shown.map((r) => ({
        id: r.id, kind: r.kind, conversation_id: r.conversation_id, message_id: r.message_id, seq: Number(r.seq),
        sender: r.sender_id && r.username ? {
          id: r.sender_id, username: r.username, display_name: r.display_name,
          avatar_url: avatarUrl({ id: r.sender_id, avatarKey: r.avatar_key, avatarUpdatedAt: r.avatar_updated_at ? new Date(r.avatar_updated_at) : null }),
        } : null,
        excerpt: currentExcerpt(r.excerpt, { content: r.m_content, type: r.m_type, deletedAt: r.m_deleted_at }), created_at: iso(r.created_at)!, read_at: iso(r.read_at),
      })),
      unread_count: await unreadCount(this.db, userId),
      next_cursor: more && last ? `${last.read_at === null ? 0 : 1}:${last.id}` : null,
    };
  }

  /** Marks the caller's notifications read (others' ids are ignored: they are not the caller's to read). */
  async markRead(userId: string, body: typeof NotificationsModel.read.static) {
    if (!!body.ids === !!body.all) throw new BadRequest("give either `ids` or `all: true`", [{ field: "ids", message: "exactly one of ids, all" }]);
    const mine = and(eq(notifications.userId, userId), isNull(notifications.readAt));
    const updated = await this.db.update(notifications).set({ readAt: new Date() })
      .where(body.ids ? and(mine, inArray(notifications.id, body.ids)) : mine).returning({ id: notifications.id });
    return { updated: updated.length, unread_count: await unreadCount(this.db, userId) };
  }

  /** Members only (404 otherwise, as for every conversation route). */
  async mute(userId: string, conversationId: string, until?: string) {
    await this.chat.requireMember(conversationId, userId);
    const at = until === undefined ? FOREVER : new Date(until);
    if (Number.isNaN(at.getTime())) throw new BadRequest("`until` must be an ISO 8601 date-time", [{ field: "until", message: "not a date-time" }]);
    const muted = at.getTime() > Date.now();
    await this.db.update(conversationMembers).set({ mutedUntil: muted ? at : null })
      .where(and(eq(conversationMembers.conversationId, conversationId), eq(conversationMembers.userId, userId)));
    return { conversation_id: conversationId, muted, muted_until: muted && at !== FOREVER ? at.toISOString() : null };
  }
}
