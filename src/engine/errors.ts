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
