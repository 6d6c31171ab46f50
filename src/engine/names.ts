/**
 * Names both engines share (DESIGN §4.1, fixed): the pub/sub channels that
 * modules and actors publish to or subscribe to, and the idempotency window.
 * Modules reach channel names here (or through `src/engine`), never through
 * the Redis engine's key builders, so nothing above the ports depends on an
 * adapter. Redis-only key names stay in `redis/keys.ts`.
 */

/** Events of one conversation: {"type":"message"|"typing"|"read"|"presence",...}. Publisher: append script, chat service. Subscriber: conversation actors. */
export const chatChannel = (conversationId: string) => `chat:{${conversationId}}`;
/** What a new message publishes on its conversation's channel, from the message's stored JSON (the Redis append script builds the same in Lua). */
export const messageEvent = (messageJson: string) => `{"type":"message","message":${messageJson}}`;

/** Events for one user: new conversation, problem.result, file.status, notification. Publisher: services, workers. Subscriber: the instance holding the user's sockets. */
export const userChannel = (userId: string) => `user:{${userId}}`;

/** A user's sessions were revoked (password change): `{"user_id","generation"}`. Publisher: the auth service. Subscriber: every instance, which raises its cached token generation for that user. */
export const sessionsChannel = "auth:sessions";

/** A problem pack was (re)imported: `{"pack_id":...}`. Publisher: the import (server or `huddle problems import`). Subscriber: every judge, which drops its cached expected results. */
export const catalogChannel = "problems:catalog";

/** How long a (conversation, sender, client_id) retry returns the first message instead of a new one. */
export const IDEMPOTENCY_TTL_SEC = 24 * 60 * 60;

/** CHAT_CACHE_TTL_SEC's default: a conversation idle for 7 days leaves Redis and is refilled from PostgreSQL. */
export const DEFAULT_CHAT_TTL_SEC = 7 * 24 * 60 * 60;
