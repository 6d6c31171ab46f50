/** ChatStore on Redis; see the port in ../types.ts for the guarantees. */
import type Redis from "ioredis";
import { SeqMissingError } from "../errors";
import { RECENT_LIMIT, type ChatMessage, type ChatStore, type NewMessage } from "../types";
import { guard, LuaScript } from "./connection";
import * as keys from "./keys";

// KEYS: seq, messages, persist stream[, idempotency record]
// ARGV: message JSON before the seq, after the seq, channel, list limit, record TTL, cache TTL (0 = none)
// Returns {0, json} stored, {1, json} duplicate, {2} counter missing.
// Every append renews the conversation's TTL: only idle conversations leave Redis.
const APPEND = new LuaScript(`
if #KEYS == 4 then
  local prior = redis.call('GET', KEYS[4])
  if prior then return {1, prior} end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {2} end
local seq = redis.call('INCR', KEYS[1])
local msg = ARGV[1] .. seq .. ARGV[2]
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
redis.call('XADD', KEYS[3], '*', 'm', msg)
if #KEYS == 4 then redis.call('SET', KEYS[4], msg, 'EX', ARGV[5]) end
if tonumber(ARGV[6]) > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  redis.call('EXPIRE', KEYS[2], ARGV[6])
end
redis.call('PUBLISH', ARGV[3], '{"type":"message","message":' .. msg .. '}')
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
  const head = JSON.stringify({ id: m.id, conversation_id: m.conversation_id });
  const tail = JSON.stringify({
    sender_id: m.sender_id,
    receiver_id: m.receiver_id,
    content: m.content,
    message_type: m.message_type,
    client_id: m.client_id,
    timestamp: m.timestamp,
    ...(m.mentions?.length ? { mentions: m.mentions } : {}),
  });
  return [`${head.slice(0, -1)},"seq":`, `,${tail.slice(1)}`];
}

export class RedisChatStore implements ChatStore {
  /** `ttlSec`: how long an idle conversation's list and counter stay (CHAT_CACHE_TTL_SEC); 0 keeps them. */
  constructor(private readonly conn: Redis, private readonly ttlSec = 0) {}

  async append(m: NewMessage): Promise<{ message: ChatMessage; duplicate: boolean }> {
    const cid = m.conversation_id;
    const scriptKeys = [keys.chatSeq(cid), keys.chatMessages(cid), keys.chatPersist];
    if (m.client_id !== null) scriptKeys.push(keys.chatIdempotency(cid, m.sender_id, m.client_id));
    const [head, tail] = splitAroundSeq(m);
    const args = [head, tail, keys.chatChannel(cid), RECENT_LIMIT, keys.IDEMPOTENCY_TTL_SEC, this.ttlSec];
    const reply = (await guard(this.conn, (c) => APPEND.run(c, scriptKeys, args))) as [number, string?];
    if (reply[0] === 2) throw new SeqMissingError(cid);
    return { message: JSON.parse(reply[1]!) as ChatMessage, duplicate: reply[0] === 1 };
  }

  async seedSeq(conversationId: string, atLeast: number): Promise<void> {
    if (!Number.isSafeInteger(atLeast) || atLeast < 0) throw new RangeError(`seedSeq: bad seq ${atLeast}`);
    await guard(this.conn, (c) => SEED.run(c, [keys.chatSeq(conversationId)], [atLeast, this.ttlSec]));
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

  async addMember(conversationId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await guard(this.conn, async (c) => {
      const batch = c.pipeline();
      for (const uid of userIds) batch.sadd(keys.userConversations(uid), conversationId);
      throwFirstError(await batch.exec());
    });
  }

  async removeMember(conversationId: string, userId: string): Promise<void> {
    await guard(this.conn, (c) => c.srem(keys.userConversations(userId), conversationId));
  }

  async conversationsOf(userId: string): Promise<string[]> {
    return guard(this.conn, (c) => c.smembers(keys.userConversations(userId)));
  }
}

/** Pipelines report per-command errors in their results instead of rejecting. */
export function throwFirstError(results: [Error | null, unknown][] | null): void {
  if (!results) throw new Error("pipeline aborted");
  for (const [err] of results) if (err) throw err;
}
