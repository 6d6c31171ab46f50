/**
 * Engine entry point: Redis when a URL is given, otherwise the in-process
 * memory engine (DESIGN §6). Import ports and errors from here.
 */
import { createMemoryEngine } from "./memory";
import { createRedisEngine } from "./redis";
import type { Engine } from "./types";

export * from "./errors";
export * from "./types";
export * from "./names";

export type EngineOptions = {
  /** No URL and no cluster nodes -> memory engine. */
  redisUrl?: string;
  /** REDIS_CLUSTER_NODES: `host:port,...` seeds of a Redis Cluster; an entry written as a URL (`rediss://user:pw@host:port`) gives every node its credentials and TLS. */
  redisClusterNodes?: string;
  /** REDIS_WAIT_REPLICAS (see RedisEngineOptions.waitReplicas). */
  waitReplicas?: number;
  /** PERSIST_RECLAIM_MS: how long a dead persister's outbox shards stay leased. */
  outboxLeaseMs?: number;
  /** Redis tuning, mostly for tests; see RedisEngineOptions. */
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  maxBackoffMs?: number;
  instance?: string;
  /** CHAT_CACHE_TTL_SEC (Redis only). */
  chatTtlSec?: number;
};

/**
 * Never fails because Redis is down: the Redis engine then rejects calls
 * with EngineUnavailableError and heals when Redis comes back.
 */
export function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const { redisUrl, redisClusterNodes, ...tuning } = options;
  if (redisClusterNodes) return createRedisEngine({ ...parseClusterNodes(redisClusterNodes), ...tuning });
  if (!redisUrl) return Promise.resolve(createMemoryEngine());
  return createRedisEngine({ url: redisUrl, ...tuning });
}

/** `host:port,rediss://:pw@host:port,...` -> seed nodes, plus the URL whose credentials and TLS every node gets. */
export function parseClusterNodes(list: string): { url: string; clusterNodes: { host: string; port: number }[] } {
  let url: string | undefined;
  const clusterNodes = list.split(",").map((s) => s.trim()).filter(Boolean).map((entry) => {
    const asUrl = new URL(/^rediss?:\/\//.test(entry) ? entry : `redis://${entry}`);
    if (asUrl.href.startsWith("rediss:") || asUrl.username || asUrl.password) url ??= asUrl.href;
    const port = Number(asUrl.port || 6379);
    if (!asUrl.hostname || !Number.isInteger(port)) throw new RangeError(`REDIS_CLUSTER_NODES: bad node ${JSON.stringify(entry)}`);
    return { host: asUrl.hostname, port };
  });
  if (clusterNodes.length === 0) throw new RangeError("REDIS_CLUSTER_NODES lists no node");
  return { url: url ?? `redis://${clusterNodes[0]!.host}:${clusterNodes[0]!.port}`, clusterNodes };
}
