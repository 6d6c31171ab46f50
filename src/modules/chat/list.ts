/**
 * The conversation list: one query for conversations, peers and last
 * messages, one Redis round trip for presence. Unread is O(1):
 * conversations.last_seq (kept by the persister) minus the member's
 * last_read_seq. Own messages never count: writing one moves the sender's
 * marker to it (persist.ts), so everything after the marker is someone
 * else's; and when the newest message is mine nothing is unread (which also
 * covers markers written before senders' markers moved).
 */
import { sql } from "drizzle-orm";
import type { ChatMessage, Presence } from "../../engine/types";
import { ChatRepo } from "./repo";
import { rowsOf } from "../../db/client";
import { avatarUrl } from "../users/present";

type Row = {
  id: string; kind: "direct" | "room"; name: string | null; last_seq: string | number; last_read_seq: string | number;
  activity: Date | string; peer_id: string | null; peer_username: string | null; peer_display_name: string | null; peer_avatar_key: string | null; peer_avatar_at: Date | string | null;
  peer_last_active: Date | string | null; msg_id: string | null; msg_seq: string | number | null; msg_sender: string | null;
  msg_receiver: string | null; msg_content: string | null; msg_type: ChatMessage["message_type"] | null; msg_client_id: string | null;
  msg_ts: Date | string | null; msg_edited_at: Date | string | null; msg_deleted_at: Date | string | null; msg_system: unknown;
};

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

export async function listConversations(repo: ChatRepo, presence: Presence, userId: string, limit = 200) {
  const rows = rowsOf(await repo.db.execute(sql`
    select c.id, c.kind, c.name, c.last_seq, greatest(m.last_read_seq, m.cleared_seq) as last_read_seq,
      coalesce(c.last_message_at, c.created_at) as activity,
      p.id as peer_id, p.username as peer_username, p.display_name as peer_display_name, p.last_active as peer_last_active,
      p.avatar_key as peer_avatar_key, p.avatar_updated_at as peer_avatar_at,
      lm.id as msg_id, lm.seq as msg_seq, lm.sender_id as msg_sender, lm.receiver_id as msg_receiver,
      lm.content as msg_content, lm.message_type as msg_type, lm.client_id as msg_client_id, lm.timestamp as msg_ts,
      lm.edited_at as msg_edited_at, lm.deleted_at as msg_deleted_at, lm.system as msg_system
    from conversation_members m
    join conversations c on c.id = m.conversation_id
    left join lateral (
      select u.id, u.username, u.display_name, u.last_active, u.avatar_key, u.avatar_updated_at from conversation_members o join users u on u.id = o.user_id
      where c.kind = 'direct' and o.conversation_id = c.id and o.user_id <> ${userId} limit 1) p on true
    left join lateral (
      select * from messages x where x.conversation_id = c.id and x.seq > m.cleared_seq and x.message_type not in ('edit', 'delete')
      order by x.seq desc limit 1) lm on true
    where m.user_id = ${userId} and (m.hidden_seq is null or c.last_seq > m.hidden_seq)
    order by activity desc
    limit ${limit}`)) as Row[];
  let online = new Set<string>();
  try {
    online = await presence.online(rows.flatMap((r) => (r.peer_id ? [r.peer_id] : [])));
  } catch {
    // Presence is best effort: with Redis down everyone shows offline.
  }
  return rows.map((r) => {
    const lastSeq = Math.max(Number(r.last_seq), Number(r.msg_seq ?? 0));
    const lastRead = Number(r.last_read_seq);
    return {
      id: r.id,
      kind: r.kind,
      name: r.kind === "room" ? r.name : (r.peer_display_name ?? r.peer_username),
      peer: r.peer_id
        ? { id: r.peer_id, username: r.peer_username!, display_name: r.peer_display_name,
          avatar_url: avatarUrl({ id: r.peer_id, avatarKey: r.peer_avatar_key, avatarUpdatedAt: r.peer_avatar_at ? new Date(r.peer_avatar_at) : null }), online: online.has(r.peer_id), last_active: iso(r.peer_last_active) }
        : null,
      last_seq: lastSeq,
      last_read_seq: lastRead,
      unread: r.msg_sender === userId ? 0 : Math.max(0, lastSeq - lastRead),
      last_message: r.msg_id
        ? {
          id: r.msg_id, conversation_id: r.id, seq: Number(r.msg_seq), sender_id: r.msg_sender!, receiver_id: r.msg_receiver,
          content: r.msg_content!, message_type: r.msg_type!, client_id: r.msg_client_id, timestamp: iso(r.msg_ts)!,
          ...(r.msg_deleted_at ? { deleted: true } : r.msg_edited_at ? { is_edited: true, edited_at: iso(r.msg_edited_at)! } : {}),
          ...(r.msg_system ? { system: r.msg_system as ChatMessage["system"] } : {}),
        }
        : null,
      last_activity: iso(r.activity)!,
    };
  });
}
