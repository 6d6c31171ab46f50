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
  /** No URL -> memory engine. */
  redisUrl?: string;
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
  const { redisUrl, ...tuning } = options;
  if (!redisUrl) return Promise.resolve(createMemoryEngine());
  return createRedisEngine({ url: redisUrl, ...tuning });
}
