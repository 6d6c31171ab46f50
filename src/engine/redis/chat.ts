/** ChatStore on Redis (single node or Cluster); see the port in ../types.ts for the guarantees. */
import type { Cluster } from "ioredis";
import { EngineFailoverError, EngineUnavailableError, RateLimitedError, SeqMissingError } from "../errors";
import { checkRule } from "../rate-rule";
import { RECENT_LIMIT, type AppendOptions, type ChatMessage, type ChatStore, type NewMessage } from "../types";
import { guard, LuaScript, type Conn } from "./connection";
import * as keys from "./keys";
import { RedisRateLimiter } from "./misc";
import { messageEvent } from "../names";

// KEYS: seq, messages[, idempotency record][, rate-limit bucket][, outbox shard]
// ARGV: 1 message JSON before the seq, 2 after it, 3 channel, 4 list limit, 5 record TTL, 6 cache TTL (0 = none),
//       7 publish command ('PUBLISH' | 'SPUBLISH' | '' = the caller publishes after WAIT), 8 has record (0|1),
//       9 has bucket (0|1), 10 has shard (0|1),
//       11 capacity, 12 refill per second, 13 cost
// Returns {0, json} stored, {1, json} duplicate, {2} counter missing, {3, ms} rate limited.
// A retry is answered before the limit is taken: it costs the sender nothing. Every append renews the
// conversation's TTL: only idle conversations leave Redis. Every key is in the conversation's slot except
// the bucket and the shard, which are passed on a single Redis only (see keys.ts).
const APPEND = new LuaScript(`
local k = 3
local record, bucket, shard
if ARGV[8] == '1' then record = KEYS[k]; k = k + 1 end
if ARGV[9] == '1' then bucket = KEYS[k]; k = k + 1 end
if ARGV[10] == '1' then shard = KEYS[k] end
if record then
  local prior = redis.call('GET', record)
  if prior then return {1, prior} end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {2} end
if bucket then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local cap, rate, cost = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
  local b = redis.call('HMGET', bucket, 'tokens', 'ts')
  local tokens, ts = tonumber(b[1]), tonumber(b[2])
  if not tokens or not ts then tokens, ts = cap, now end
  tokens = math.min(cap, tokens + math.max(0, now - ts) * rate / 1000)
  local ok = tokens >= cost
  if ok then tokens = tokens - cost end
  redis.call('HSET', bucket, 'tokens', tostring(tokens), 'ts', now)
  redis.call('PEXPIRE', bucket, math.ceil(cap * 1000 / rate) + 1000)
  if not ok then return {3, math.ceil((cost - tokens) * 1000 / rate)} end
end
local seq = redis.call('INCR', KEYS[1])
local msg = ARGV[1] .. seq .. ARGV[2]
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
if shard then redis.call('XADD', shard, '*', 'm', msg) end
if record then redis.call('SET', record, msg, 'EX', ARGV[5]) end
if tonumber(ARGV[6]) > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  redis.call('EXPIRE', KEYS[2], ARGV[6])
end
if ARGV[7] ~= '' then redis.call(ARGV[7], ARGV[3], '{"type":"message","message":' .. msg .. '}') end
return {0, msg}
`);

// KEYS: seq. ARGV: at least, cache TTL (0 = none).
const SEED = new LuaScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
`);

// KEYS: messages, seq. ARGV: last seq given, cache TTL (0 = none), message JSON...
// Writes only into an empty cache and only if no later seq was allocated.
const REFILL = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local cur = redis.call('GET', KEYS[2])
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 0 end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
`);

/**
 * The message JSON split around its seq, so the script only concatenates
 * (no cjson round trip that could reorder keys or re-escape content).
 */
function splitAroundSeq(m: NewMessage): [string, string] {
  const { id, conversation_id, ...rest } = m;
  const head = JSON.stringify({ id, conversation_id });
  // Every other field, in the order the caller built them; optional ones only when set.
  const tail = JSON.stringify(rest);
  return [`${head.slice(0, -1)},"seq":`, `,${tail.slice(1)}`];
}

export type ChatStoreOptions = {
  /** How long an idle conversation's list and counter stay (CHAT_CACHE_TTL_SEC); 0 keeps them. */
  ttlSec?: number;
  /** `conn` is a Cluster: the outbox entry and the rate limit are second calls, pub/sub is sharded. */
  cluster?: boolean;
  /** REDIS_WAIT_REPLICAS: an append is acknowledged only once this many replicas have it (0 = don't wait). */
  waitReplicas?: number;
  /** How long WAIT may take before the append is refused as unconfirmed. */
  waitTimeoutMs?: number;
};

// KEYS: messages. ARGV: pairs of (entry as stored, replacement).
// Compare-and-set per entry: one that changed or left the list meanwhile is not touched (the caller re-reads).
const REPLACE = new LuaScript(`
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local n = 0
for i, v in ipairs(items) do
  for j = 1, #ARGV, 2 do
    if v == ARGV[j] then
      redis.call('LSET', KEYS[1], i - 1, ARGV[j + 1])
      n = n + 1
      break
    end
  end
end
return n
`);

export class RedisChatStore implements ChatStore {
  private readonly ttlSec: number;
  private readonly cluster: boolean;
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  private readonly limiter: RedisRateLimiter;

  constructor(private readonly conn: Conn, opts: ChatStoreOptions = {}) {
    this.ttlSec = opts.ttlSec ?? 0;
    this.cluster = opts.cluster ?? false;
    this.waitReplicas = opts.waitReplicas ?? 0;
    this.waitTimeoutMs = opts.waitTimeoutMs ?? 1000;
    this.limiter = new RedisRateLimiter(conn);
  }

  append(m: NewMessage, opts: AppendOptions = {}): Promise<{ message: ChatMessage; duplicate: boolean }> {
    return this.sendPath(() => this.appendOnce(m, opts));
  }

  /**
   * The calls a send makes (append, and seedSeq before a retried append). On a cluster an unreachable slot means
   * a failover in progress: see EngineFailoverError for why the caller must not fall back to PostgreSQL.
   */
  private async sendPath<T>(call: () => Promise<T>): Promise<T> {
    if (!this.cluster) return call();
    try {
      return await call();
    } catch (err) {
      if (err instanceof EngineUnavailableError) throw new EngineFailoverError(err.message, { cause: err });
      throw err;
    }
  }

  private async appendOnce(m: NewMessage, opts: AppendOptions): Promise<{ message: ChatMessage; duplicate: boolean }> {
    const cid = m.conversation_id;
    const limit = opts.limit;
    const cost = limit ? checkRule(limit.rule) : 0;
    if (limit && this.cluster) {
      // The bucket is in the user's slot (keys.ts says why it stays there): a call of its own.
      const decision = await this.limiter.take(limit.scope, limit.id, limit.rule);
      if (!decision.allowed) throw new RateLimitedError(decision.retryAfterMs);
    }
    const scriptKeys = [keys.chatSeq(cid), keys.chatMessages(cid)];
    const record = m.client_id !== null;
    if (record) scriptKeys.push(keys.chatIdempotency(cid, m.sender_id, m.client_id!));
    const bucketInScript = limit !== undefined && !this.cluster;
    if (bucketInScript) scriptKeys.push(keys.rateLimit(limit.scope, limit.id));
    const shard = keys.chatPersistShard(keys.outboxShardOf(cid));
    if (!this.cluster) scriptKeys.push(shard);
    const [head, tail] = splitAroundSeq(m);
    // With REDIS_WAIT_REPLICAS the message goes out only once replicas have it (below): published inside the
    // script, a reader could see a message that a failover then loses, and miss the one that reuses its seq.
    const publishAfterWait = this.waitReplicas > 0;
    const args = [
      head, tail, keys.chatChannel(cid), RECENT_LIMIT, keys.IDEMPOTENCY_TTL_SEC, this.ttlSec,
      publishAfterWait ? "" : this.cluster ? "SPUBLISH" : "PUBLISH", record ? 1 : 0, bucketInScript ? 1 : 0, this.cluster ? 0 : 1,
      limit?.rule.capacity ?? 0, limit?.rule.refillPerSec ?? 0, cost,
    ];
    const reply = (await this.confirmed(scriptKeys[0]!, (c) => APPEND.run(c, scriptKeys, args))) as [number, string | number | undefined];
    if (limit && this.cluster && (reply[0] === 1 || reply[0] === 2)) {
      // The token was taken before the script: a retry (or an append that wrote nothing) gives it back.
      await this.limiter.refund(limit.scope, limit.id, limit.rule).catch(() => {});
    }
    if (reply[0] === 2) throw new SeqMissingError(cid);
    if (reply[0] === 3) throw new RateLimitedError(Number(reply[1]));
    const json = String(reply[1]);
    if (publishAfterWait) {
      // A retry is published again too: its first attempt may have been refused before it went out. Readers
      // drop a seq they already have.
      const channel = keys.chatChannel(cid);
      const frame = messageEvent(json);
      await guard(this.conn, (c) => (this.cluster ? c.spublish(channel, frame) : c.publish(channel, frame)));
    }
    if (this.cluster) {
      // The shard is in a slot of its own. A duplicate is queued again too: if the first attempt died between
      // the two calls, this retry is what brings the message to PostgreSQL (a second entry is harmless there).
      await this.confirmed(shard, (c) => c.xadd(shard, "*", "m", json));
    }
    return { message: JSON.parse(json) as ChatMessage, duplicate: reply[0] === 1 };
  }

  /**
   * Runs a write and, with REDIS_WAIT_REPLICAS, WAITs on the node that ran it (the pipeline goes to the node
   * of `routeKey`'s slot): the append is acknowledged only once that many replicas have it, so a failover
   * cannot lose it. Unconfirmed writes are refused (they may still land; a retry with client_id finds them).
   */
  private async confirmed(routeKey: string, write: (c: Conn) => Promise<unknown>): Promise<unknown> {
    if (this.waitReplicas === 0) return guard(this.conn, write);
    const result = await guard(this.conn, write);
    const acked = await guard(this.conn, (c) => waitOn(c, routeKey, this.waitReplicas, this.waitTimeoutMs));
    if (acked < this.waitReplicas) {
      throw new EngineFailoverError(`write confirmed by ${acked} of ${this.waitReplicas} replica(s) (REDIS_WAIT_REPLICAS)`);
    }
    return result;
  }

  async seedSeq(conversationId: string, atLeast: number): Promise<void> {
    if (!Number.isSafeInteger(atLeast) || atLeast < 0) throw new RangeError(`seedSeq: bad seq ${atLeast}`);
    await this.sendPath(() => guard(this.conn, (c) => SEED.run(c, [keys.chatSeq(conversationId)], [atLeast, this.ttlSec])));
  }

  async recent(conversationId: string): Promise<ChatMessage[] | null> {
    const items = await guard(this.conn, (c) => c.lrange(keys.chatMessages(conversationId), 0, -1));
    // Redis never keeps an empty list, so empty means "not cached".
    if (items.length === 0) return null;
    return items.map((s) => JSON.parse(s) as ChatMessage);
  }

  async refill(conversationId: string, messages: ChatMessage[]): Promise<boolean> {
    const last = messages.slice(-RECENT_LIMIT);
    if (last.length === 0) return false;
    const args = [last[last.length - 1]!.seq, this.ttlSec, ...last.map((m) => JSON.stringify(m))];
    const scriptKeys = [keys.chatMessages(conversationId), keys.chatSeq(conversationId)];
    const wrote = await guard(this.conn, (c) => REFILL.run(c, scriptKeys, args));
    return wrote === 1;
  }

  async replaceRecent(conversationId: string, changes: { from: ChatMessage; to: ChatMessage }[]): Promise<number> {
    if (changes.length === 0) return 0;
    const args = changes.flatMap((c) => [JSON.stringify(c.from), JSON.stringify(c.to)]);
    return Number(await guard(this.conn, (c) => REPLACE.run(c, [keys.chatMessages(conversationId)], args)));
  }

  async redactSent(m: ChatMessage): Promise<void> {
    if (m.client_id === null) return;
    // XX: only a record that still exists; KEEPTTL: it expires when it would have.
    await guard(this.conn, (c) => c.set(keys.chatIdempotency(m.conversation_id, m.sender_id, m.client_id!), JSON.stringify(m), "KEEPTTL", "XX"));
  }

  async drop(conversationId: string): Promise<void> {
    await guard(this.conn, (c) => c.del(keys.chatMessages(conversationId), keys.chatSeq(conversationId)));
  }

  async addMember(conversationId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    // One command per user: each set is in its user's slot (a cluster refuses a cross-slot pipeline).
    await guard(this.conn, (c) => Promise.all(userIds.map((uid) => c.sadd(keys.userConversations(uid), conversationId))));
  }

  async removeMember(conversationId: string, userId: string): Promise<void> {
    await guard(this.conn, (c) => c.srem(keys.userConversations(userId), conversationId));
  }

  async conversationsOf(userId: string): Promise<string[]> {
    return guard(this.conn, (c) => c.smembers(keys.userConversations(userId)));
  }
}

/**
 * WAIT on the connection that carried the last write to `routeKey`'s slot: on a cluster a pipeline goes to
 * the node owning the slot of its keyed commands, and the keyless WAIT rides along on the same connection.
 */
async function waitOn(c: Conn, routeKey: string, replicas: number, timeoutMs: number): Promise<number> {
  if (!c.isCluster) return (await c.wait(replicas, timeoutMs)) as number;
  const results = await (c as Cluster).pipeline().exists(routeKey).wait(replicas, timeoutMs).exec();
  throwFirstError(results);
  return Number(results![1]![1]);
}

/** Pipelines report per-command errors in their results instead of rejecting. */
export function throwFirstError(results: [Error | null, unknown][] | null): void {
  if (!results) throw new Error("pipeline aborted");
  for (const [err] of results) if (err) throw err;
}
