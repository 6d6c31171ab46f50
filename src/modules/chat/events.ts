/**
 * Live events. `chat:{id}` carries what every follower of a conversation
 * sees; `user:{id}` carries what concerns one user wherever their sockets
 * are. The message event itself is published by the engine's append script.
 */
import type { ChatMessage } from "../../engine/types";

export type ChatEvent =
  | { type: "message"; message: ChatMessage }
  | { type: "typing"; conversation_id: string; user_id: string }
  | { type: "read"; conversation_id: string; user_id: string; seq: number }
  | { type: "presence"; user_id: string; online: boolean; last_active: string | null };

export type UserEvent =
  | { type: "conversation"; conversation_id: string; kind: "direct" | "room" }
  /** Left, removed, or the room was deleted: the sockets stop following it at once (hub.ts). */
  | { type: "conversation.left"; conversation_id: string; reason?: "left" | "removed" | "deleted" }
  | { type: "conversation.cleared"; conversation_id: string; cleared_seq: number }
  | { type: "conversation.hidden"; conversation_id: string; until_seq: number }
  | { type: "problem.result"; [k: string]: unknown }
  | { type: "notification"; notification: Record<string, unknown> };

/**
 * Delivery to sockets connected to this instance, bypassing the broker. Used
 * when Redis is down, so people on the same instance still chat.
 */
export interface LocalDelivery {
  toConversation(conversationId: string, event: ChatEvent): void;
}
