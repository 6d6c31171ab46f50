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

/**
 * Takes the oldest waiting job and leases it in one step, without blocking (no holding list: the
 * script is atomic). The processing hash's key is built here from its prefix, as a job's id is only
 * known once popped; on a Redis Cluster every key of one queue shares its hash tag, so that key lives
 * in the same slot as the declared ones. `data` is copied as the element's own JSON text (cjson would
 * re-encode numbers with 14 digits); an element this code did not write is dropped, as claim() does.
 * Expects: KEYS[1] queue, KEYS[2] leases; ARGV[a] processing prefix, worker, deadline, now.
 * Leaves `taken` = the element or nil.
 */
const TAKE_NEXT = (a: number) => `
local taken = redis.call('RPOP', KEYS[1])
if taken then
  local ok, job = pcall(cjson.decode, taken)
  if not ok or type(job) ~= 'table' or type(job.id) ~= 'string' or type(job.attempt) ~= 'number' then
    taken = nil
  else
    local from = string.find(taken, ',"data":', 1, true)
    -- data may hold an "attempt" key of its own: the envelope's is the last one.
    local to, at = nil, 1
    while true do
      local s = string.find(taken, ',"attempt":', at, true)
      if not s then break end
      to, at = s, s + 1
    end
    local data = (from and to) and string.sub(taken, from + 8, to - 1) or cjson.encode(job.data or {})
    local pkey = ARGV[${a}] .. job.id
    redis.call('HSET', pkey, 'id', job.id, 'data', data, 'attempt', job.attempt, 'enqueued_at', job.enqueued_at or 0,
      'worker', ARGV[${a + 1}], 'lease_deadline', ARGV[${a + 2}], 'started_at', ARGV[${a + 3}])
    redis.call('ZADD', KEYS[2], ARGV[${a + 2}], job.id)
  end
end
`;

// KEYS: queue, leases. ARGV: processing prefix, worker, deadline, now. Returns the leased element or false.
export const CLAIM_NOW = new LuaScript(`${TAKE_NEXT(1)}
return taken or false
`);

// KEYS: queue, leases, processing of the finished job. ARGV: processing prefix, worker, deadline, now, finished id.
// COMPLETE (owner check, DEL, ZREM) then TAKE_NEXT: one round trip per job while the queue is busy.
// Returns {1 completed | 0 lease lost, next element | ''}.
export const COMPLETE_AND_CLAIM = new LuaScript(`
local completed = 0
if redis.call('HGET', KEYS[3], 'worker') == ARGV[2] then
  redis.call('DEL', KEYS[3])
  redis.call('ZREM', KEYS[2], ARGV[5])
  completed = 1
end
${TAKE_NEXT(1)}
return {completed, taken or ''}
`);
