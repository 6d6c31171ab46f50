/**
 * Errors the engine ports throw on purpose. Callers branch on these classes
 * (instanceof), so their meaning is part of the port contract.
 */

/**
 * The backing store cannot serve the call right now (Redis down, restarting,
 * loading, out of memory, timed out). Raised fast instead of queueing, so the
 * caller can fall back (chat -> PostgreSQL) or answer 503. The engine keeps
 * reconnecting in the background; later calls succeed once the store is back.
 */
export class EngineUnavailableError extends Error {
  override readonly name = "EngineUnavailableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * `chat:{conversation_id}:seq` does not exist, so allocating a seq could reuse
 * one already stored in PostgreSQL. The caller seeds the counter from
 * PostgreSQL's highest seq (`ChatStore.seedSeq`) and retries the append.
 */
export class SeqMissingError extends Error {
  override readonly name = "SeqMissingError";
  constructor(readonly conversationId: string) {
    super(`sequence counter for conversation ${conversationId} is missing; seed it from PostgreSQL`);
  }
}

/**
 * The sender's rate limit refused the append (ChatStore.append with a limit);
 * nothing was written. `retryAfterMs`: when enough tokens are back.
 */
export class RateLimitedError extends Error {
  override readonly name = "RateLimitedError";
  constructor(readonly retryAfterMs: number) {
    super(`rate limited; retry in ${retryAfterMs} ms`);
  }
}

/**
 * A Redis Cluster could not take the append now (a master failing over, a
 * slot moving, or a write not confirmed by REDIS_WAIT_REPLICAS replicas).
 * Unlike EngineUnavailableError the caller must not fall back to PostgreSQL:
 * the promoted replica keeps allocating seqs, so a message written around it
 * would clash with one already acknowledged. Answer 503 and let the client
 * retry (with its client_id, a retry of a write that did land returns it).
 */
export class EngineFailoverError extends Error {
  override readonly name = "EngineFailoverError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
