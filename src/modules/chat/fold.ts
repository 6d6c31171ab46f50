/**
 * Edits and deletes are entries of the seq log (message_type "edit" /
 * "delete", `ref_id` naming their target). PostgreSQL applies them to the
 * target row when the persister writes them (persist.ts); whatever is read
 * from Redis, or from PostgreSQL before the persister caught up, gets them
 * applied here, so a reader always sees the current state of each message.
 * Pure and idempotent: applying the same events twice changes nothing more.
 */
import type { ChatMessage } from "../../engine/types";

export const isEvent = (m: ChatMessage) => m.message_type === "edit" || m.message_type === "delete";

/** A message as it reads once deleted: in its place in the log, without content. */
export function tombstone(m: ChatMessage): ChatMessage {
  const { edited_at: _e, is_edited: _i, ...rest } = m;
  return { ...rest, content: "", deleted: true };
}

/**
 * `messages` with every event of `events` applied, in seq order: a delete
 * blanks its target and the edits of it; an edit replaces a live target's
 * content. Unchanged messages are returned as the same objects.
 */
export function applyEvents(messages: ChatMessage[], events: ChatMessage[]): ChatMessage[] {
  const evs = events.filter(isEvent).sort((a, b) => a.seq - b.seq);
  if (evs.length === 0) return messages;
  const deleted = new Set(evs.filter((e) => e.message_type === "delete").map((e) => e.ref_id));
  const lastEdit = new Map<string, ChatMessage>();
  for (const e of evs) if (e.message_type === "edit" && e.ref_id) lastEdit.set(e.ref_id, e);
  return messages.map((m) => {
    if (deleted.has(m.id)) return m.deleted ? m : tombstone(m);
    if (m.message_type === "edit" && m.ref_id && deleted.has(m.ref_id)) return m.content === "" ? m : { ...m, content: "" };
    const edit = lastEdit.get(m.id);
    if (!edit || m.deleted || m.edited_at === edit.timestamp) return m;
    return { ...m, content: edit.content, is_edited: true, edited_at: edit.timestamp };
  });
}
