/**
 * Every Redis key and channel Huddle uses (DESIGN §4.1, fixed). Build them
 * here only, so the schema stays in one reviewable place. Each entry says:
 * type, writer, reader, expiry.
 *
 * Slots. The braces of DESIGN §4.1 are real Redis Cluster hash tags: only
 * the text between the first `{` and `}` picks the slot. So every key of one
 * conversation (`chat:{<id>}:messages`, `:seq`, its idempotency records) and
 * its channel `chat:{<id>}` share a slot, and the append script, which
 * touches all of them, runs on one node. Every key of one user shares the
 * user's slot; every key of one queue shares the queue's (`{problems}:...`).
 * A single Redis uses exactly the same names (a tag is just text there).
 *
 * How DESIGN's names map (left: the table, right: what is stored):
 *   chat:{conversation_id}:messages  -> chat:{<id>}:messages   (tag: conversation id)
 *   chat:{conversation_id}:seq       -> chat:{<id>}:seq
 *   user:{user_id}:conversations     -> user:{<id>}:conversations (tag: user id)
 *   user:{user_id}:online            -> user:{<id>}:online
 *   problems:queue                   -> {problems}:queue         (tag: queue name)
 *   problems:processing:{job_id}     -> {problems}:processing:<job id>
 *   problems:result:{job_id}         -> {problems}:result:<job id>
 *   problems:leases                  -> {problems}:leases
 *   chat:persist                     -> chat:persist:{<shard>}, 16 shards (see chatPersistShard)
 *   ratelimit:{scope}:{id}           -> ratelimit:<scope>:{<id>} (tag: the limited id)
 * A job key's tag is the queue name, not the job id, because the claim,
 * complete and reaper scripts touch a job's hash together with the queue's
 * list and lease set. The one slot per queue is its throughput ceiling on a
 * cluster; queues are independent of each other.
 *
 * The per-user send limit: on a single Redis the append script takes the
 * sender's token (`ratelimit:send:{<user>}`) in the same call, one round trip
 * per send. On a cluster that key lives in the user's slot and the message
 * in the conversation's, so the engine takes the token with a second call
 * first. A copy of the bucket per conversation slot would keep one call, but
 * it would multiply a user's allowance by the conversations they write to,
 * and the limit exists to bound what one user costs everyone.
 *
 * Upgrading from the untagged names: recent lists, counters and presence are
 * rebuilt by themselves (refill from PostgreSQL, seed on SeqMissing, next
 * heartbeat). The old `chat:persist` stream is still drained by the
 * persisters (see chatPersistLegacy). Let job queues drain before the
 * upgrade: jobs under the old names are not picked up.
 */

// ---- published schema (clients and operators read these) -----------------

/** List of message JSON, oldest first, last 50. Writer: append script (RPUSH+LTRIM), refill script. Reader: ChatStore.recent. Expiry: CHAT_CACHE_TTL_SEC after the last append or refill (default 7 days; refilled from PostgreSQL on the next read). */
export const chatMessages = (conversationId: string) => `chat:{${conversationId}}:messages`;

/** Set of conversation ids. Writer: ChatStore.addMember/removeMember. Reader: ChatStore.conversationsOf. Expiry: none. */
export const userConversations = (userId: string) => `user:{${userId}}:conversations`;

/** String "1". Writer: Presence.setOnline (SET EX, refreshed by heartbeats) / setOffline (DEL). Reader: Presence.online (MGET per slot). Expiry: the TTL given, about 60 s. */
export const userOnline = (userId: string) => `user:{${userId}}:online`;

/**
 * List of job JSON {id,data,attempt,enqueued_at}. Writer: JobQueue.push (LPUSH), reaper (RPUSH, so requeued jobs are next). Reader: claimers (BLMOVE from the right). Expiry: none.
 * Three queues use this layout and every job key below: `problems` (SQL judge: {problems}:queue, {problems}:processing:<id>, ...),
 * `files` (upload processing, job id = file id, data {conversation_id}: {files}:queue, {files}:processing:<id>,
 * {files}:leases, {files}:claiming, {files}:claiming:seen; {files}:result:<id> is never written)
 * and `notifications` (job id = message id, data {message}; {notifications}:result:<id> is never written either).
 */
export const jobQueue = (queue: string) => `{${queue}}:queue`;

/** Hash: id, data (JSON), attempt, enqueued_at, worker, lease_deadline (ms), started_at (ms). Writer: claim script; extend. Reader/deleter: complete, reaper. Expiry: none (the reaper removes it). */
export const jobProcessing = (queue: string, jobId: string) => `{${queue}}:processing:${jobId}`;

/** String, result JSON. Writer: ResultCache.set / JobQueue.complete (SET EX). Reader: ResultCache.get. Expiry: the TTL given (300 s for problems). */
export const jobResult = (queue: string, jobId: string) => `{${queue}}:result:${jobId}`;

// ---- ours -------------------------------------------------------------------

/** String integer, the last seq allocated. Writer: append script (INCR), seedSeq. Reader: append/refill scripts. Expiry: CHAT_CACHE_TTL_SEC after the last append or seed (re-seeded from PostgreSQL's highest seq on the next send, so a seq never goes back). */
export const chatSeq = (conversationId: string) => `chat:{${conversationId}}:seq`;

/**
 * How many streams the outbox is split into. Fixed: a conversation must keep
 * its shard while it has entries waiting, or its order across shards would
 * not hold. 16 spreads over the masters of any usual cluster and lets up to
 * 16 persisters share the work.
 */
export const OUTBOX_SHARDS = 16;

/** The outbox shard of a conversation: a stable hash (CRC-32 of the id), so all its messages queue in one stream, in seq order. */
export function outboxShardOf(conversationId: string): number {
  return Bun.hash.crc32(conversationId) % OUTBOX_SHARDS;
}

/**
 * Stream, field `m` = message JSON: one outbox shard, tag `{persist-<n>}` (its own slot). Writer: append (XADD, no MAXLEN:
 * unpersisted entries must stay; in the append script on a single Redis, a second call right after it on a cluster).
 * Reader: the persister holding the shard's lease, via group `persister`; ack deletes (XACK+XDEL). Expiry: none.
 */
export const chatPersistShard = (shard: number) => `chat:persist:{persist-${shard}}`;
export const persistGroup = "persister";

/** The stream of the untagged layout (before shards): nothing writes it any more; persisters drain what an upgrade left in it. */
export const chatPersistLegacy = "chat:persist";

/**
 * String, the consumer name of the persister holding a shard (index OUTBOX_SHARDS = the legacy stream), SET PX and renewed
 * while it works; a dead holder's lease expires and another persister takes the shard over. Same slot as the shard.
 */
export const chatPersistLease = (shard: number) =>
  shard === OUTBOX_SHARDS ? "chat:persist:lease" : `chat:persist:{persist-${shard}}:lease`;

/** Sorted set, persister consumer name scored by its last heartbeat (ms): how many persisters share the shards. Expiry: none (stale members are pruned). */
export const chatPersisters = "chat:persist:persisters";

/** Stream, fields `m` = message JSON, `err` = why PostgreSQL refused it, `at` = ISO time. One stream, not one per shard: it is written rarely and read whole by replay. Writer: the persister (DeadLetters.add) before it acknowledges the outbox entry. Reader: /metrics, /ready, `huddle outbox replay` (deletes what it wrote). Expiry: none: an acknowledged message is never dropped. */
export const chatDeadLetters = "chat:persist:dead";

/**
 * String, the stored message JSON: idempotency record of (conversation,
 * sender, client_id). Writer: append script. Reader: append script.
 * Expiry: `IDEMPOTENCY_TTL_SEC` (24 h); a retry after that is a new message
 * in Redis (PostgreSQL's unique key still rejects it when persisting).
 */
export const chatIdempotency = (conversationId: string, senderId: string, clientId: string) =>
  `chat:{${conversationId}}:client:${senderId}:${clientId}`;
export { IDEMPOTENCY_TTL_SEC } from "../names";

/** Sorted set, job_id scored by lease deadline (ms). Writer: claim script, extend, complete, reaper. Reader: reaper. Expiry: none. */
export const jobLeases = (queue: string) => `{${queue}}:leases`;

/** List of job JSON taken off the queue but not leased yet (normally for one round trip). Writer: claimers (BLMOVE). Reader: claim script (LREM), reaper. Expiry: none. */
export const jobHolding = (queue: string) => `{${queue}}:claiming`;

/** Sorted set, holding-list element scored by when the reaper first saw it (ms). Writer: reaper, claim script (ZREM). Reader: reaper. Expiry: none. */
export const jobHoldingSeen = (queue: string) => `{${queue}}:claiming:seen`;

/** Hash {tokens, ts}: token bucket, in the slot of the limited id (a user's send bucket sits with the user's keys). Writer/reader: rate-limit script, append script (send). Expiry: the time to refill completely, refreshed on every take. */
export const rateLimit = (scope: string, id: string) => `ratelimit:${scope}:{${id}}`;

// ---- Pub/Sub channels: shared with the memory engine, see ../names.ts. On a cluster, tagged channels
// (chat:{<id>}, user:{<id>}) are sharded (SPUBLISH/SSUBSCRIBE, in their conversation's or user's slot);
// the untagged ones (auth:sessions, problems:catalog) every instance needs are classic PUBLISH.

export { chatChannel, userChannel, catalogChannel } from "../names";
