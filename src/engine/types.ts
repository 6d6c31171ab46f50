/**
 * Engine ports: what the chat service, the actors and the judge need from the
 * "hot" store. Two implementations honour exactly these guarantees: `redis/`
 * (shared by every instance) and `memory/` (one process, no dependencies).
 * The contract suite in test/contract/engine runs against both.
 *
 * Errors: any method of the Redis engine may reject with
 * `EngineUnavailableError` when Redis cannot serve it; it does so fast (no
 * offline queue) and works again once Redis is back. JSON shapes are
 * snake_case, exactly as the HTTP API returns them.
 */
import type { MessageSchema } from "./message";

export type ChatMessage = typeof MessageSchema.static;
export type MessageType = ChatMessage["message_type"];

/** A message before it has a seq; `id` (UUIDv7) and `timestamp` are chosen by the caller. */
export type NewMessage = Omit<ChatMessage, "seq">;

/** How many messages `chat:{id}:messages` keeps. */
export const RECENT_LIMIT = 50;

export interface ChatStore {
  /**
   * Stores a message atomically (one Lua script on Redis): allocates the next
   * seq, appends to the recent list (trimmed to the last 50), adds it to the
   * outbox and publishes `{"type":"message","message":...}` on `chat:{id}`.
   * Either all of that happens or none of it.
   *
   * Idempotent per (conversation, sender, client_id) for 24 h: a retry returns
   * the first stored message with `duplicate: true` and allocates, stores,
   * enqueues and publishes nothing. Without client_id every call is new.
   *
   * Throws `SeqMissingError` when the counter is missing; nothing is written.
   * Seqs are strictly increasing without gaps per conversation, also under
   * concurrent appends from many processes.
   */
  append(m: NewMessage): Promise<{ message: ChatMessage; duplicate: boolean }>;

  /** Sets the counter to max(current, atLeast) atomically; creates it when missing. */
  seedSeq(conversationId: string, atLeast: number): Promise<void>;

  /**
   * The cached recent messages, oldest first, or null when nothing is cached
   * (the caller refills from PostgreSQL). The list is always a run of
   * consecutive seqs ending at the newest appended message, but it may start
   * later than the caller needs (fewer than 50 after the list was lost and new
   * messages arrived): older messages then come from PostgreSQL.
   */
  recent(conversationId: string): Promise<ChatMessage[] | null>;

  /**
   * Caches the last 50 of `messages` (ascending seq) only if nothing is cached
   * and they end at or after the current counter, so a refill never clobbers
   * concurrent appends nor leaves a gap before later ones. Returns whether it
   * wrote. An empty array writes nothing.
   */
  refill(conversationId: string, messages: ChatMessage[]): Promise<boolean>;

  /** Adds the conversation to each user's `user:{id}:conversations` set. */
  addMember(conversationId: string, userIds: string[]): Promise<void>;
  /** Removes the conversation from the user's set. */
  removeMember(conversationId: string, userId: string): Promise<void>;
  /** Conversation ids the user belongs to (any order). */
  conversationsOf(userId: string): Promise<string[]>;
}

export type OutboxEntry = { id: string; message: ChatMessage };

/**
 * The persist outbox (`chat:persist`, consumer group `persister`). Each entry
 * is delivered to one consumer at a time and stays until acknowledged; an
 * entry delivered to a consumer that died is recovered with `claimStale`.
 */
export interface Outbox {
  /** Creates the consumer group (and the stream) if missing; idempotent. */
  ensureGroup(): Promise<void>;
  /**
   * Up to `count` entries never delivered before, oldest first, waiting at
   * most `blockMs` (capped at 30 s; 0 = don't wait) for the first. Each
   * consumer name gets its own blocking connection, so a blocked read never
   * delays other commands. Recreates the group if Redis lost it.
   */
  read(consumer: string, count: number, blockMs: number): Promise<OutboxEntry[]>;
  /** Takes over up to `count` entries delivered to any consumer and unacknowledged for at least `minIdleMs`. */
  claimStale(consumer: string, minIdleMs: number, count: number): Promise<OutboxEntry[]>;
  /** Acknowledges and deletes the entries, so the stream only holds unpersisted messages. Unknown ids are ignored. */
  ack(ids: string[]): Promise<void>;
  /** Entries not yet acknowledged (delivered or not): the persistence backlog. */
  pending(): Promise<number>;
  /** Age in ms at `now` of the oldest entry not yet acknowledged (how far PostgreSQL lags), or null when empty. */
  oldestAgeMs(now: number): Promise<number | null>;
  /**
   * Messages of one conversation still waiting here (acknowledged to their
   * sender, not yet in PostgreSQL) with seq > afterSeq, ascending, at most
   * `max`. Looks at the oldest OUTBOX_SCAN_LIMIT entries only. Lets a replay
   * fill what PostgreSQL does not have yet when the persister lags.
   */
  unpersisted(conversationId: string, afterSeq: number, max: number): Promise<ChatMessage[]>;
}

export type DeadLetter = { id: string; message: ChatMessage; reason: string; at: string };

/**
 * Acknowledged messages PostgreSQL refused for a reason of its own (a row that
 * can never be written as it is): kept here, with the error, instead of
 * blocking the outbox or being lost (`chat:persist:dead`). `huddle outbox
 * replay` writes them once the cause is fixed. Entries stay until removed.
 */
export interface DeadLetters {
  add(message: ChatMessage, reason: string): Promise<void>;
  /** The oldest `max` entries, oldest first. */
  list(max: number): Promise<DeadLetter[]>;
  remove(ids: string[]): Promise<void>;
  count(): Promise<number>;
}

/** How many outbox entries `Outbox.unpersisted` examines at most. */
export const OUTBOX_SCAN_LIMIT = 20_000;

export type Unsubscribe = () => Promise<void>;

export interface Broker {
  /** Publishes to every subscriber of `channel` on every instance (at most once, no replay). */
  publish(channel: string, payload: string): Promise<void>;
  /**
   * Registers a handler. Resolves once the channel is subscribed on the
   * backing store, or at once when the store is down (the subscription is
   * then established automatically on reconnect). Many handlers per channel
   * share one store subscription, dropped when the last handler leaves.
   * A throwing handler does not affect the others.
   */
  subscribe(channel: string, handler: (payload: string) => void): Promise<Unsubscribe>;
  /** Channels with at least one local handler. */
  channels(): string[];
  /**
   * Called after the subscriber connection came back and every local channel
   * was subscribed again. Messages published while it was down were missed:
   * callers resync (e.g. replay by seq). Returns a function removing `cb`.
   */
  onReconnect(cb: () => void): () => void;
}

export interface Presence {
  /** Marks the user online for `ttlSec` seconds (`user:{id}:online`); refresh it with heartbeats. */
  setOnline(userId: string, ttlSec: number): Promise<void>;
  setOffline(userId: string): Promise<void>;
  /** The subset of `userIds` currently online, in one round trip. */
  online(userIds: string[]): Promise<Set<string>>;
}

export type Job = {
  id: string;
  data: Record<string, unknown>;
  /** 1 on the first run, +1 each time an expired lease puts it back. */
  attempt: number;
  /** ms since epoch of the first push */
  enqueued_at: number;
};

/**
 * Claims jobs on behalf of one worker over its own connection (a blocking
 * claim would stall every other command sharing a connection).
 */
export interface JobClaimer {
  readonly workerId: string;
  /**
   * Takes the oldest waiting job (FIFO) and leases it to this worker for
   * `leaseMs`, waiting up to `blockMs` (capped at 30 s) for one; null when none
   * came (possibly earlier than `blockMs`, or when the claimer is closed).
   * The hand-over is crash safe: a job is at every moment either waiting,
   * leased (processing hash + lease) or in the holding list the reaper
   * recovers, never only in a dead worker's memory.
   */
  claim(leaseMs: number, blockMs: number): Promise<Job | null>;
  /** Closes the connection; a pending claim resolves null. Idempotent. */
  close(): Promise<void>;
}

/**
 * A reliable FIFO job queue named `name` (`{name}:queue`,
 * `{name}:processing:{job_id}`, `{name}:leases`). Each job is leased to at
 * most one worker at a time. Ownership is compared by worker id, so each live
 * claimer needs a unique id. Lease deadlines use the clock of the claiming
 * process and `requeueExpired`'s `now`: instances must keep clocks in sync
 * (well under the lease length).
 */
export interface JobQueue {
  readonly name: string;
  /** Enqueues a job (attempt 1) at the back of the line. */
  push(id: string, data: Record<string, unknown>): Promise<void>;
  /** Jobs waiting (not leased). */
  depth(): Promise<number>;
  /** A claimer with its own connection for `workerId`. */
  claimer(workerId: string): JobClaimer;
  /** Pushes the lease deadline to now + leaseMs; false if the job is no longer leased to `workerId`. */
  extend(jobId: string, workerId: string, leaseMs: number): Promise<boolean>;
  /**
   * Finishes the job if, and only if, it is still leased to `workerId`: deletes
   * the processing hash and lease and, when `result` is given, stores it as
   * `{name}:result:{job_id}` in the same atomic step. Returns false (writing
   * nothing) when the lease was lost to the reaper. So for each job at most one
   * call returns true, and the cached result is written exactly by that call;
   * a worker seeing false must not publish its result.
   */
  complete(jobId: string, workerId: string, result?: { json: string; ttlSec: number }): Promise<boolean>;
  /**
   * `complete(jobId, workerId)` and, in the same atomic step, a non-blocking
   * claim of the next waiting job for `workerId` (leased for `leaseMs`): one
   * round trip per job while the queue is busy. `completed` is complete's
   * answer; `next` is null when nothing waits (block in `claim` then). The
   * next job is claimed even when the lease was lost: the worker is free.
   */
  completeAndClaim(jobId: string, workerId: string, leaseMs: number): Promise<{ completed: boolean; next: Job | null }>;
  /**
   * Hands a job leased to `workerId` back to the front of the queue with the
   * same attempt (a worker that stops is not a failed attempt). False, and
   * nothing changed, when the lease is no longer this worker's.
   */
  release(job: Job, workerId: string): Promise<boolean>;
  /**
   * Reaper step. Jobs whose lease deadline is <= `now` go back to the front of
   * the queue with attempt + 1. Jobs whose attempt already reached
   * `maxAttempts` are returned in `dead` and stay where they are (expired,
   * leased to nobody alive) until `discard` removes them: the caller records
   * their terminal state first, so a failure in between never loses a job
   * (the next sweep returns it again). Jobs stranded in the holding list (a
   * worker died between taking and leasing) go back unchanged once seen there
   * for `strandedAfterMs` (default 5 s) of `now`.
   */
  requeueExpired(
    now: number,
    maxAttempts: number,
    opts?: { strandedAfterMs?: number },
  ): Promise<{ requeued: string[]; dead: Job[] }>;
  /** Removes a dead job returned by `requeueExpired` if its lease is still expired at `now`; false otherwise. */
  discard(jobId: string, now: number): Promise<boolean>;
}

/** Cached job results (`problems:result:{job_id}`). */
export interface ResultCache {
  set(jobId: string, json: string, ttlSec: number): Promise<void>;
  /** The JSON, or null when never set or expired. */
  get(jobId: string): Promise<string | null>;
}

export type RateLimitRule = { capacity: number; refillPerSec: number; cost?: number };
export type RateLimitDecision = { allowed: boolean; remaining: number; retryAfterMs: number };

export interface RateLimiter {
  /**
   * Token bucket per (scope, id): starts full at `capacity`, refills
   * continuously at `refillPerSec`; a call takes `cost` (default 1) tokens if
   * available. When refused, `retryAfterMs` says when enough tokens will be
   * back. Atomic across instances; idle buckets expire. A cost above capacity
   * is a programming error (RangeError).
   */
  take(scope: string, id: string, rule: RateLimitRule): Promise<RateLimitDecision>;
  /** Gives `cost` tokens back (never above capacity): a take that turned out not to count, e.g. a correct password. */
  refund(scope: string, id: string, rule: RateLimitRule): Promise<void>;
}

/** Redis' INFO, as far as operations need it (absent fields: unknown, or the memory engine). */
export type StoreInfo = {
  used_memory?: number;
  /** 0 = no limit. */
  maxmemory?: number;
  maxmemory_policy?: string;
  aof_enabled?: boolean;
  /** RDB snapshots configured (`save` not empty). */
  rdb_enabled?: boolean;
};

export interface Engine {
  readonly kind: "memory" | "redis";
  readonly chat: ChatStore;
  readonly outbox: Outbox;
  readonly deadLetters: DeadLetters;
  readonly broker: Broker;
  readonly presence: Presence;
  /** The queue named `name`; the same object for the same name. */
  queue(name: string): JobQueue;
  readonly results: ResultCache;
  readonly rateLimiter: RateLimiter;
  /** Resolves when the store answers; rejects with EngineUnavailableError otherwise. */
  ping(): Promise<void>;
  /** What operators watch: the store's memory and durability settings (empty for the memory engine). */
  info(): Promise<StoreInfo>;
  /** Closes every connection and claimer. Idempotent: later calls return the first promise. */
  close(): Promise<void>;
}
