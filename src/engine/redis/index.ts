/** The Redis engine: one command connection, one subscriber connection, one blocking connection per reader/claimer. */
import type Redis from "ioredis";
import type { Engine } from "../types";
import { RedisBroker } from "./broker";
import { RedisChatStore } from "./chat";
import { closeQuietly, guard, openConnection, settle, type ConnectionSettings } from "./connection";
import { RedisPresence, RedisRateLimiter, RedisResultCache } from "./misc";
import { RedisOutbox } from "./outbox";
import { RedisDeadLetters } from "./dead-letters";
import { RedisJobQueue } from "./queue";
import { DEFAULT_CHAT_TTL_SEC } from "../names";
import type { StoreInfo } from "../types";

export type RedisEngineOptions = {
  url: string;
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
  };
  const cmd = openConnection(settings, "command", "cmd");
  const sub = openConnection(settings, "subscriber", "sub");
  const blocking = new Set<Redis>();
  let closing: Promise<void> | undefined;
  const openBlocking = (name: string) => {
    if (closing) throw new Error("engine is closed");
    const conn = openConnection(settings, "blocking", name.replace(/\s/g, "_"));
    blocking.add(conn);
    conn.once("end", () => blocking.delete(conn));
    return conn;
  };
  await Promise.all([settle(cmd, settings.connectTimeoutMs), settle(sub, settings.connectTimeoutMs)]);

  const outbox = new RedisOutbox(cmd, openBlocking, settings.connectTimeoutMs);
  const queues = new Map<string, RedisJobQueue>();

  return {
    kind: "redis",
    chat: new RedisChatStore(cmd, options.chatTtlSec ?? DEFAULT_CHAT_TTL_SEC),
    outbox,
    deadLetters: new RedisDeadLetters(cmd),
    broker: new RedisBroker(cmd, sub),
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
        outbox.close();
        for (const q of queues.values()) q.close();
        for (const conn of [...blocking, sub, cmd]) closeQuietly(conn);
      })();
      return closing;
    },
  };
}

/** INFO memory + persistence, parsed into what /metrics and /ready report. */
async function storeInfo(cmd: Redis): Promise<StoreInfo> {
  const text = await guard(cmd, (c) => c.info("memory").then(async (m) => m + (await c.info("persistence"))));
  const field = (name: string) => text.match(new RegExp(`^${name}:(.*)$`, "m"))?.[1]?.trim();
  const num = (name: string) => (field(name) === undefined ? undefined : Number(field(name)));
  const save = await guard(cmd, (c) => c.config("GET", "save")).catch(() => null) as string[] | null;
  return {
    used_memory: num("used_memory"),
    maxmemory: num("maxmemory"),
    maxmemory_policy: field("maxmemory_policy"),
    aof_enabled: field("aof_enabled") === "1",
    ...(save ? { rdb_enabled: (save[1] ?? "").trim() !== "" } : {}),
  };
}
