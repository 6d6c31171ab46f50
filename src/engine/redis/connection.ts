/**
 * Redis connections tuned to fail fast and heal by themselves: no offline
 * queue and no retries per request (a call made while Redis is down rejects
 * at once with EngineUnavailableError, so chat can fall back to PostgreSQL),
 * and a reconnect loop that never gives up (capped backoff), so the engine
 * works again when Redis returns without being recreated.
 */
import Redis, { Cluster, type ClusterNode } from "ioredis";
import { EngineUnavailableError } from "../errors";

/** A connection to a single Redis, or a Cluster client (which routes each command to its slot's master). */
export type Conn = Redis | Cluster;

export type ConnectionSettings = {
  url: string;
  /** Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES); `url` then only carries credentials and TLS. */
  clusterNodes?: ClusterNode[];
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
const lastError = new WeakMap<Conn, string>();

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
 * The Cluster counterpart of openConnection, with the same fail-fast rules.
 * Credentials and TLS come from `settings.url` (the first REDIS_CLUSTER_NODES
 * entry written as a URL) and apply to every node. During a failover the
 * client re-reads the slot map on MOVED/CLUSTERDOWN; a command meanwhile
 * fails fast (no offline queue) and the caller decides what to do.
 */
export function openCluster(settings: ConnectionSettings, role: ConnectionRole, name: string): Cluster {
  const url = new URL(settings.url);
  const tls = url.protocol === "rediss:" ? { servername: url.hostname } : undefined;
  const conn = new Cluster(settings.clusterNodes ?? [], {
    enableOfflineQueue: false,
    enableReadyCheck: true,
    scaleReads: "master",
    // A few quick redirections while a replica is promoted; past them the call fails and the caller decides.
    maxRedirections: 8,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: settings.connectTimeoutMs,
    clusterRetryStrategy: (attempt) =>
      Math.min(settings.maxBackoffMs, 50 * 2 ** Math.min(attempt, 10)) + Math.floor(Math.random() * 50),
    redisOptions: {
      connectionName: `huddle:${settings.instance}:${name}`,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      tls,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      connectTimeout: settings.connectTimeoutMs,
      commandTimeout: role === "blocking" ? undefined : settings.commandTimeoutMs,
    },
  });
  conn.on("error", (err: Error) => lastError.set(conn, err.message));
  conn.on("ready", () => lastError.delete(conn));
  return conn;
}

/**
 * A plain connection to one cluster node ("host:port"), with the cluster's
 * credentials and TLS: the sharded broker subscribes on the node that owns
 * a channel's slot.
 */
export function openNodeConnection(settings: ConnectionSettings, nodeKey: string, name: string): Redis {
  const cut = nodeKey.lastIndexOf(":");
  const url = new URL(settings.url);
  url.hostname = nodeKey.slice(0, cut);
  url.port = nodeKey.slice(cut + 1);
  return openConnection({ ...settings, url: url.toString() }, "subscriber", name);
}

/** CRC16 (XMODEM) of the hash tag mod 16384: the slot Redis Cluster puts a key or shard channel in. */
export function slotOf(key: string): number {
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of new TextEncoder().encode(key)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/**
 * Resolves once `conn` is ready, or when its current connection attempt
 * failed, or after `timeoutMs`, whichever comes first. Never rejects: callers
 * go through `guard`, which reports a connection that is still not ready.
 */
export function settle(conn: Conn, timeoutMs: number): Promise<void> {
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
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|OOM|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MISCONF|MOVED|ASK)\b/;

/** Maps a failure from ioredis to EngineUnavailableError, except genuine command errors and our own bugs. */
export function toEngineError(err: unknown): unknown {
  if (err instanceof EngineUnavailableError) return err;
  if (!(err instanceof Error)) return err;
  if (err.name === "ReplyError" && !UNAVAILABLE_REPLY.test(err.message)) return err;
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) return err;
  return new EngineUnavailableError(`Redis unavailable: ${err.message}`, { cause: err });
}

/** Runs one Redis call on `conn`, failing fast when it is not connected. */
export async function guard<C extends Conn, T>(conn: C, call: (conn: C) => Promise<T>): Promise<T> {
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
export function closeQuietly(conn: Conn): void {
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

  async run(conn: Conn, keys: string[], args: (string | number)[]): Promise<unknown> {
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
