/**
 * The chat message as every layer sees it: stored in Redis and PostgreSQL,
 * returned by the HTTP API, sent in WebSocket frames. One TypeBox schema is
 * the single source: `ChatMessage` (engine/types.ts) is its static type, and
 * the chat module's OpenAPI models embed it. Plain TypeBox (what Elysia's `t`
 * is built on), so the ports do not depend on the web framework.
 */
import { Type as t } from "@sinclair/typebox";

export const MessageSchema = t.Object({
  id: t.String(),
  conversation_id: t.String(),
  seq: t.Integer(),
  sender_id: t.String(),
  receiver_id: t.Union([t.String(), t.Null()]),
  content: t.String(),
  message_type: t.Union([t.Literal("text"), t.Literal("file"), t.Literal("system")]),
  client_id: t.Union([t.String(), t.Null()]),
  /** ISO 8601 */
  timestamp: t.String(),
  /** Users named as @username in a room message (their ids); absent when none. */
  mentions: t.Optional(t.Array(t.String(), { description: "ids of the members named as @username (room messages); absent when none" })),
});
