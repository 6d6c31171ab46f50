/** Presence, result cache and rate limiter on Redis; see the ports in ../types.ts. */
import { checkRule } from "../rate-rule";
import type { Presence, RateLimitDecision, RateLimiter, RateLimitRule, ResultCache } from "../types";
import { guard, LuaScript, type Conn } from "./connection";
import * as keys from "./keys";

export class RedisPresence implements Presence {
  constructor(private readonly conn: Conn) {}

  async setOnline(userId: string, ttlSec: number): Promise<void> {
    await guard(this.conn, (c) => c.set(keys.userOnline(userId), "1", "EX", ttlSec));
  }

  async setOffline(userId: string): Promise<void> {
    await guard(this.conn, (c) => c.del(keys.userOnline(userId)));
  }

  async online(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    // Each flag is in its user's slot: a cluster refuses a cross-slot MGET, so one GET each (pipelined by ioredis).
    const flags = await guard(this.conn, (c) =>
      c.isCluster ? Promise.all(userIds.map((u) => c.get(keys.userOnline(u)))) : c.mget(userIds.map(keys.userOnline)),
    );
    return new Set(userIds.filter((_, i) => flags[i] !== null));
  }
}

export class RedisResultCache implements ResultCache {
  constructor(
    private readonly conn: Conn,
    private readonly queue: string,
  ) {}

  async set(jobId: string, json: string, ttlSec: number): Promise<void> {
    await guard(this.conn, (c) => c.set(keys.jobResult(this.queue, jobId), json, "EX", ttlSec));
  }

  get(jobId: string): Promise<string | null> {
    return guard(this.conn, (c) => c.get(keys.jobResult(this.queue, jobId)));
  }
}

// KEYS: bucket. ARGV: capacity, refill per second, cost.
// Uses the server clock so every instance refills the same bucket alike.
// Returns {allowed 0|1, whole tokens left, ms until `cost` tokens are back}.
const TAKE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cap, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if not tokens or not ts then tokens, ts = cap, now end
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate / 1000)
local allowed, wait = 0, 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = math.ceil((cost - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(cap * 1000 / rate) + 1000)
return {allowed, math.floor(tokens), wait}
`);

// KEYS: bucket. ARGV: capacity, refill per second, tokens to give back. A missing bucket is full: no-op.
const REFUND = new LuaScript(`
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if not tokens or not ts then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cap, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate / 1000 + cost)
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(cap * 1000 / rate) + 1000)
return 1
`);

export class RedisRateLimiter implements RateLimiter {
  constructor(private readonly conn: Conn) {}

  async take(scope: string, id: string, rule: RateLimitRule): Promise<RateLimitDecision> {
    const cost = checkRule(rule);
    const args = [rule.capacity, rule.refillPerSec, cost];
    const reply = (await guard(this.conn, (c) => TAKE.run(c, [keys.rateLimit(scope, id)], args))) as number[];
    return { allowed: reply[0] === 1, remaining: reply[1]!, retryAfterMs: reply[2]! };
  }

  async refund(scope: string, id: string, rule: RateLimitRule): Promise<void> {
    const cost = checkRule(rule);
    await guard(this.conn, (c) => REFUND.run(c, [keys.rateLimit(scope, id)], [rule.capacity, rule.refillPerSec, cost]));
  }
}
