/**
 * Every Redis key and channel Huddle uses (DESIGN §4.1, fixed). Build them
 * here only, so the schema stays in one reviewable place. Each entry says:
 * type, writer, reader, expiry. The keys are not Cluster hash-tagged: the
 * scripts touching several keys assume one Redis (or one shard).
 */

// ---- published schema (clients and operators read these) -----------------

/** List of message JSON, oldest first, last 50. Writer: append script (RPUSH+LTRIM), refill script. Reader: ChatStore.recent. Expiry: CHAT_CACHE_TTL_SEC after the last append or refill (default 7 days; refilled from PostgreSQL on the next read). */
export const chatMessages = (conversationId: string) => `chat:${conversationId}:messages`;

/** Set of conversation ids. Writer: ChatStore.addMember/removeMember. Reader: ChatStore.conversationsOf. Expiry: none. */
export const userConversations = (userId: string) => `user:${userId}:conversations`;

/** String "1". Writer: Presence.setOnline (SET EX, refreshed by heartbeats) / setOffline (DEL). Reader: Presence.online (MGET). Expiry: the TTL given, about 60 s. */
export const userOnline = (userId: string) => `user:${userId}:online`;

/**
 * List of job JSON {id,data,attempt,enqueued_at}. Writer: JobQueue.push (LPUSH), reaper (RPUSH, so requeued jobs are next). Reader: claimers (BLMOVE from the right). Expiry: none.
 * Three queues use this layout and every job key below: `problems` (SQL judge: problems:queue, problems:processing:{id}, ...),
 * `files` (upload processing, job id = file id, data {conversation_id}: files:queue, files:processing:{id},
 * files:leases, files:claiming, files:claiming:seen; files:result:{id} is never written)
 * and `notifications` (job id = message id, data {message}; notifications:result:{id} is never written either).
 */
export const jobQueue = (queue: string) => `${queue}:queue`;

/** Hash: id, data (JSON), attempt, enqueued_at, worker, lease_deadline (ms), started_at (ms). Writer: claim script; extend. Reader/deleter: complete, reaper. Expiry: none (the reaper removes it). */
export const jobProcessing = (queue: string, jobId: string) => `${queue}:processing:${jobId}`;

/** String, result JSON. Writer: ResultCache.set / JobQueue.complete (SET EX). Reader: ResultCache.get. Expiry: the TTL given (300 s for problems). */
export const jobResult = (queue: string, jobId: string) => `${queue}:result:${jobId}`;

// ---- ours -------------------------------------------------------------------

/** String integer, the last seq allocated. Writer: append script (INCR), seedSeq. Reader: append/refill scripts. Expiry: CHAT_CACHE_TTL_SEC after the last append or seed (re-seeded from PostgreSQL's highest seq on the next send, so a seq never goes back). */
export const chatSeq = (conversationId: string) => `chat:${conversationId}:seq`;

/** Stream, field `m` = message JSON. Writer: append script (XADD, no MAXLEN: unpersisted entries must stay). Reader: persister via group `persister`; ack deletes (XACK+XDEL). Expiry: none. */
export const chatPersist = "chat:persist";
export const persistGroup = "persister";

/** Stream, fields `m` = message JSON, `err` = why PostgreSQL refused it, `at` = ISO time. Writer: the persister (DeadLetters.add) before it acknowledges the outbox entry. Reader: /metrics, /ready, `huddle outbox replay` (deletes what it wrote). Expiry: none: an acknowledged message is never dropped. */
export const chatDeadLetters = "chat:persist:dead";

/**
 * String, the stored message JSON: idempotency record of (conversation,
 * sender, client_id). Writer: append script. Reader: append script.
 * Expiry: `IDEMPOTENCY_TTL_SEC` (24 h); a retry after that is a new message
 * in Redis (PostgreSQL's unique key still rejects it when persisting).
 */
export const chatIdempotency = (conversationId: string, senderId: string, clientId: string) =>
  `chat:${conversationId}:client:${senderId}:${clientId}`;
export { IDEMPOTENCY_TTL_SEC } from "../names";

/** Sorted set, job_id scored by lease deadline (ms). Writer: claim script, extend, complete, reaper. Reader: reaper. Expiry: none. */
export const jobLeases = (queue: string) => `${queue}:leases`;

/** List of job JSON taken off the queue but not leased yet (normally for one round trip). Writer: claimers (BLMOVE). Reader: claim script (LREM), reaper. Expiry: none. */
export const jobHolding = (queue: string) => `${queue}:claiming`;

/** Sorted set, holding-list element scored by when the reaper first saw it (ms). Writer: reaper, claim script (ZREM). Reader: reaper. Expiry: none. */
export const jobHoldingSeen = (queue: string) => `${queue}:claiming:seen`;

/** Hash {tokens, ts}: token bucket. Writer/reader: rate-limit script. Expiry: the time to refill completely, refreshed on every take. */
export const rateLimit = (scope: string, id: string) => `ratelimit:${scope}:${id}`;

// ---- Pub/Sub channels (global across logical DBs): shared with the memory engine, see ../names.ts

export { chatChannel, userChannel, catalogChannel } from "../names";
