/**
 * The chat message as every layer sees it: stored in Redis and PostgreSQL,
 * returned by the HTTP API, sent in WebSocket frames. One TypeBox schema is
 * the single source: `ChatMessage` (engine/types.ts) is its static type, and
 * the chat module's OpenAPI models embed it. Plain TypeBox (what Elysia's `t`
 * is built on), so the ports do not depend on the web framework.
 *
 * Everything that changes a conversation is an entry of its seq log, so it is
 * delivered live and replayed by `resume` like any message; `message_type`
 * says what an entry is:
 * - `text`, `file`: what people write (`is_edited`/`edited_at`, or `deleted`
 *   with empty content, show their current state when read back);
 * - `system`: a line the server writes (`system` says what happened);
 * - `edit`, `delete`: events on the earlier message `ref_id` (seq `ref_seq`);
 *   an edit carries the new content, a delete none.
 * The optional fields are absent when they do not apply (false / null).
 */
import { Type as t } from "@sinclair/typebox";


export const SystemInfoSchema = t.Object({
  kind: t.Union([
    t.Literal("room_created"), t.Literal("joined"), t.Literal("left"), t.Literal("removed"),
    t.Literal("role_changed"), t.Literal("room_renamed"), t.Literal("room_updated"),
  ]),
  /** who did it */
  actor_id: t.String(),
  /** whom it was done to (joined, removed, role_changed), else null */
  target_id: t.Union([t.String(), t.Null()]),
  /** role_changed: the new role */
  role: t.Optional(t.String()),
  /** room_renamed: the new name */
  name: t.Optional(t.String()),
});

export const MessageSchema = t.Object({
  id: t.String(),
  conversation_id: t.String(),
  seq: t.Integer(),
  sender_id: t.String(),
  receiver_id: t.Union([t.String(), t.Null()]),
  content: t.String(),
  message_type: t.Union([t.Literal("text"), t.Literal("file"), t.Literal("system"), t.Literal("edit"), t.Literal("delete")]),
  client_id: t.Union([t.String(), t.Null()]),
  /** ISO 8601 */
  timestamp: t.String(),
  is_edited: t.Optional(t.Boolean()),
  /** ISO 8601, when last edited */
  edited_at: t.Optional(t.String()),
  /** a tombstone: the content is gone */
  deleted: t.Optional(t.Boolean()),
  /** edit / delete events: the message they change */
  ref_id: t.Optional(t.String()),
  ref_seq: t.Optional(t.Integer()),
  system: t.Optional(SystemInfoSchema),
  /** Users named as @username in a room message (their ids); absent when none. */
  mentions: t.Optional(t.Array(t.String(), { description: "ids of the members named as @username (room messages); absent when none" })),
});
