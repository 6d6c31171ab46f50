/**
 * The Redis engine: one command connection, one subscriber connection, one
 * blocking connection per reader/claimer. With `clusterNodes` every role is
 * an ioredis Cluster client instead (the broker: one subscriber connection
 * per master, sharded-broker.ts), and the keys' hash tags (keys.ts) keep
 * each script on one slot.
 */
import type { Cluster } from "ioredis";
import type Redis from "ioredis";
import type { Engine } from "../types";
import { RedisBroker } from "./broker";
import { RedisChatStore } from "./chat";
import { closeQuietly, guard, openCluster, openConnection, openNodeConnection, settle, type Conn, type ConnectionSettings } from "./connection";
import { ShardedBroker } from "./sharded-broker";
import { RedisPresence, RedisRateLimiter, RedisResultCache } from "./misc";
import { RedisOutbox } from "./outbox";
import { RedisDeadLetters } from "./dead-letters";
import { RedisJobQueue } from "./queue";
import { DEFAULT_CHAT_TTL_SEC } from "../names";
import type { StoreInfo } from "../types";

export type RedisEngineOptions = {
  /** A single Redis; with `clusterNodes`, only its credentials and TLS count. */
  url: string;
  /** Seed nodes `host:port` of a Redis Cluster (REDIS_CLUSTER_NODES). */
  clusterNodes?: { host: string; port: number }[];
  /** REDIS_WAIT_REPLICAS: appends are acknowledged once this many replicas have them. Default 0. */
  waitReplicas?: number;
  /** How long a shard lease lasts before another persister may take the shard (PERSIST_RECLAIM_MS). Default 10000. */
  outboxLeaseMs?: number;
  /** Per connection attempt; also how long createEngine waits for the first one. Default 1000. */
  connectTimeoutMs?: number;
  /** Default 3000. */
  commandTimeoutMs?: number;
  /** Reconnect backoff cap. Default 2000. */
  maxBackoffMs?: number;
  /** Shown in CLIENT LIST as `huddle:{instance}:{cmd|sub|...}`. Default: random. */
  instance?: string;
  /** A conversation idle this long leaves Redis (list, counter); 0 = never. Default 7 days. */
  chatTtlSec?: number;
};

/**
 * Connects and returns once the first connection attempts settled, whether
 * they succeeded or not: an engine built while Redis is down fails fast on
 * every call and recovers by itself when Redis comes up.
 */
export async function createRedisEngine(options: RedisEngineOptions): Promise<Engine> {
  const settings: ConnectionSettings = {
    url: options.url,
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    commandTimeoutMs: options.commandTimeoutMs ?? 3000,
    maxBackoffMs: options.maxBackoffMs ?? 2000,
    instance: options.instance ?? Bun.randomUUIDv7().slice(-8),
    clusterNodes: options.clusterNodes,
  };
  const cluster = (options.clusterNodes?.length ?? 0) > 0;
  const cmd: Conn = cluster ? openCluster(settings, "command", "cmd") : openConnection(settings, "command", "cmd");
  const sub = cluster ? null : openConnection(settings, "subscriber", "sub");
  const blocking = new Set<Conn>();
  let closing: Promise<void> | undefined;
  const openBlocking = (name: string) => {
    if (closing) throw new Error("engine is closed");
    const label = name.replace(/\s/g, "_");
    const conn: Conn = cluster ? openCluster(settings, "blocking", label) : openConnection(settings, "blocking", label);
    blocking.add(conn);
    conn.once("end", () => blocking.delete(conn));
    return conn;
  };
  await Promise.all([settle(cmd, settings.connectTimeoutMs), ...(sub ? [settle(sub, settings.connectTimeoutMs)] : [])]);

  const outbox = new RedisOutbox(cmd, openBlocking, settings.connectTimeoutMs, options.outboxLeaseMs);
  const broker = sub
    ? new RedisBroker(cmd as Redis, sub)
    : new ShardedBroker(cmd as Cluster, (node) => openNodeConnection(settings, node, "sub"));
  const queues = new Map<string, RedisJobQueue>();

  return {
    kind: "redis",
    chat: new RedisChatStore(cmd, { ttlSec: options.chatTtlSec ?? DEFAULT_CHAT_TTL_SEC, cluster, waitReplicas: options.waitReplicas }),
    outbox,
    deadLetters: new RedisDeadLetters(cmd),
    broker,
    presence: new RedisPresence(cmd),
    results: new RedisResultCache(cmd, "problems"),
    rateLimiter: new RedisRateLimiter(cmd),
    queue(name: string) {
      if (closing) throw new Error("engine is closed");
      let q = queues.get(name);
      if (!q) queues.set(name, (q = new RedisJobQueue(name, cmd, openBlocking, settings.connectTimeoutMs)));
      return q;
    },
    async ping() {
      await guard(cmd, (c) => c.ping());
    },
    info: () => storeInfo(cmd),
    close() {
      closing ??= (async () => {
        // closeQuietly catches per connection: one failure can't leak the rest.
        // The outbox gives its shard leases back first, so other instances take over at once.
        await Promise.race([outbox.close(), Bun.sleep(settings.commandTimeoutMs)]).catch(() => {});
        for (const q of queues.values()) q.close();
        if (broker instanceof ShardedBroker) broker.close();
        for (const conn of [...blocking, ...(sub ? [sub] : []), cmd]) closeQuietly(conn);
      })();
      return closing;
    },
  };
}

/** INFO memory + persistence, parsed into what /metrics and /ready report; on a cluster, over every master. */
async function storeInfo(cmd: Conn): Promise<StoreInfo> {
  if (!cmd.isCluster) return nodeInfo(cmd as Redis);
  const each = await Promise.all((cmd as Cluster).nodes("master").map(nodeInfo));
  if (each.length === 0) return {};
  const sum = (f: (i: StoreInfo) => number | undefined) => each.reduce((a, i) => a + (f(i) ?? 0), 0);
  return {
    used_memory: sum((i) => i.used_memory),
    // A master without a limit makes the whole unlimited (0), as on one Redis.
    maxmemory: each.some((i) => !i.maxmemory) ? 0 : sum((i) => i.maxmemory),
    maxmemory_policy: each.find((i) => i.maxmemory_policy !== "noeviction")?.maxmemory_policy ?? "noeviction",
    aof_enabled: each.every((i) => i.aof_enabled),
    ...(each.every((i) => i.rdb_enabled !== undefined) ? { rdb_enabled: each.every((i) => i.rdb_enabled) } : {}),
  };
}

async function nodeInfo(node: Redis): Promise<StoreInfo> {
  const text = await guard(node, (c) => c.info("memory").then(async (m) => m + (await c.info("persistence"))));
  const field = (name: string) => text.match(new RegExp(`^${name}:(.*)$`, "m"))?.[1]?.trim();
  const num = (name: string) => (field(name) === undefined ? undefined : Number(field(name)));
  const save = await guard(node, (c) => c.config("GET", "save")).catch(() => null) as string[] | null;
  return {
    used_memory: num("used_memory"),
    maxmemory: num("maxmemory"),
    maxmemory_policy: field("maxmemory_policy"),
    aof_enabled: field("aof_enabled") === "1",
    ...(save ? { rdb_enabled: (save[1] ?? "").trim() !== "" } : {}),
  };
}
