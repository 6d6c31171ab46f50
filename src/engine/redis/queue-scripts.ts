/** The job queue's Lua scripts (see queue.ts for how they fit together). Each one is a single atomic step. */
import { LuaScript } from "./connection";

// KEYS: holding, holding-seen, leases, processing. ARGV: element, worker, deadline, now, id, data, attempt, enqueued_at
export const LEASE = new LuaScript(`
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[4], 'id', ARGV[5], 'data', ARGV[6], 'attempt', ARGV[7], 'enqueued_at', ARGV[8],
  'worker', ARGV[2], 'lease_deadline', ARGV[3], 'started_at', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[5])
return 1
`);

// KEYS: processing, leases. ARGV: worker, deadline, id
export const EXTEND = new LuaScript(`
if redis.call('HGET', KEYS[1], 'worker') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease_deadline', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
`);

// KEYS: processing, leases, result. ARGV: worker, id[, result json, ttl sec]
export const COMPLETE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'worker') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
if #ARGV >= 4 then redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4]) end
return 1
`);

// KEYS: processing, leases, queue. ARGV: id, now, worker read, attempt read, element to push ('' = dead).
// Acts only if the lease is still expired and still the one the reaper read.
// Returns 1 done, 2 orphan lease dropped, 0 left alone.
export const REQUEUE = new LuaScript(`
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return 0 end
local owner = redis.call('HGET', KEYS[1], 'worker')
if ARGV[3] == '' then
  if owner then return 0 end
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 2
end
if owner ~= ARGV[3] or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[4] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[5] ~= '' then redis.call('RPUSH', KEYS[3], ARGV[5]) end
return 1
`);

// KEYS: holding, holding-seen, queue. ARGV: element, now, stranded after ms.
// First sighting only records the time; a later one past the grace moves it back.
export const RECOVER = new LuaScript(`
if not redis.call('LPOS', KEYS[1], ARGV[1]) then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
local first = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not first then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
  return 0
end
if tonumber(ARGV[2]) - tonumber(first) < tonumber(ARGV[3]) then return 0 end
redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('RPUSH', KEYS[3], ARGV[1])
return 1
`);

// KEYS: processing, leases, queue. ARGV: worker, id, job element (same attempt).
// A stopping worker hands its job back to the right end, so it is claimed next.
export const RELEASE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'worker') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[3])
return 1
`);
