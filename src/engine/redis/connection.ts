/**
 * Redis connections tuned to fail fast and heal by themselves: no offline
 * queue and no retries per request (a call made while Redis is down rejects
 * at once with EngineUnavailableError, so chat can fall back to PostgreSQL),
 * and a reconnect loop that never gives up (capped backoff), so the engine
 * works again when Redis returns without being recreated.
 */
import Redis from "ioredis";
import { EngineUnavailableError } from "../errors";

export type ConnectionSettings = {
  url: string;
  /** Per connection attempt. */
  connectTimeoutMs: number;
  /** Upper bound for a non-blocking command's reply. */
  commandTimeoutMs: number;
  /** Reconnect backoff cap. */
  maxBackoffMs: number;
  /** Names this engine's connections `huddle:{instance}:{name}` in CLIENT LIST. */
  instance: string;
};

/** command: shared, non-blocking commands. subscriber: the one Pub/Sub connection. blocking: one per blocked reader or claimer. */
export type ConnectionRole = "command" | "subscriber" | "blocking";

// Why a connection is not ready, for the EngineUnavailableError a call gets:
// "connection is connecting" alone does not tell an operator that the
// password is wrong (WRONGPASS) or the server's certificate is not trusted,
// and ioredis keeps retrying such a connection instead of failing it.
const lastError = new WeakMap<Redis, string>();

/**
 * Every role gets the same URL, so TLS (`rediss://`) and credentials
 * (`redis://user:password@`) apply to each connection alike: ioredis reads
 * both from the URL and redoes AUTH (inside HELLO) on every reconnect.
 * Certificates are checked against Node's default CA store, which Bun extends
 * with NODE_EXTRA_CA_CERTS at start-up (README, "TLS and passwords").
 */
export function openConnection(settings: ConnectionSettings, role: ConnectionRole, name: string): Redis {
  const conn = new Redis(settings.url, {
    connectionName: `huddle:${settings.instance}:${name}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A command whose reply was lost may have run (e.g. an append); resending
    // it could run it twice, so the caller gets an error and decides.
    autoResendUnfulfilledCommands: false,
    // The broker resubscribes from its own handler table on 'ready': that
    // table also knows about channels (un)subscribed while disconnected.
    autoResubscribe: false,
    connectTimeout: settings.connectTimeoutMs,
    // Blocking commands carry their own bounded timeout instead.
    commandTimeout: role === "blocking" ? undefined : settings.commandTimeoutMs,
    retryStrategy: (attempt) =>
      Math.min(settings.maxBackoffMs, 50 * 2 ** Math.min(attempt, 10)) + Math.floor(Math.random() * 50),
  });
  // Connection errors surface as EngineUnavailableError on calls (carrying
  // the last one) and as a failing ping(), not as unhandled error events.
  conn.on("error", (err: Error) => lastError.set(conn, err.message));
  conn.on("ready", () => lastError.delete(conn));
  return conn;
}

/**
 * Resolves once `conn` is ready, or when its current connection attempt
 * failed, or after `timeoutMs`, whichever comes first. Never rejects: callers
 * go through `guard`, which reports a connection that is still not ready.
 */
export function settle(conn: Redis, timeoutMs: number): Promise<void> {
  if (conn.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      conn.off("ready", done);
      conn.off("error", done);
      conn.off("end", done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    conn.once("ready", done);
    conn.once("error", done);
    conn.once("end", done);
  });
}

// Replies meaning "this server cannot serve now" rather than "bad request".
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|OOM|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MISCONF)\b/;

/** Maps a failure from ioredis to EngineUnavailableError, except genuine command errors and our own bugs. */
export function toEngineError(err: unknown): unknown {
  if (err instanceof EngineUnavailableError) return err;
  if (!(err instanceof Error)) return err;
  if (err.name === "ReplyError" && !UNAVAILABLE_REPLY.test(err.message)) return err;
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) return err;
  return new EngineUnavailableError(`Redis unavailable: ${err.message}`, { cause: err });
}

/** Runs one Redis call on `conn`, failing fast when it is not connected. */
export async function guard<T>(conn: Redis, call: (conn: Redis) => Promise<T>): Promise<T> {
  if (conn.status !== "ready") {
    const why = lastError.get(conn);
    throw new EngineUnavailableError(`Redis unavailable: connection is ${conn.status}${why ? ` (last error: ${why})` : ""}`);
  }
  try {
    return await call(conn);
  } catch (err) {
    throw toEngineError(err);
  }
}

/** Disconnects without waiting for replies and stops reconnecting; never throws. */
export function closeQuietly(conn: Redis): void {
  try {
    conn.disconnect(false);
  } catch {
    // Already closed: nothing left to release.
  }
}

/**
 * A Lua script run by SHA, loaded on demand (NOSCRIPT after a Redis restart
 * or SCRIPT FLUSH falls back to EVAL, which caches it again).
 */
export class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = new Bun.CryptoHasher("sha1").update(source).digest("hex");
  }

  async run(conn: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await conn.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith("NOSCRIPT")) {
        return conn.eval(this.source, keys.length, ...keys, ...args);
      }
      throw err;
    }
  }
}
