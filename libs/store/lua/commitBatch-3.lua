--[[
  Commits a micro-batch of learning items to one state hash, exactly once, atomically: the caller read the arms it
  touches (with seq and rev), added its deltas to them and sends the new values; they are written only if no other
  write came in between (compare-and-set on seq and rev) and no item was applied before.

  KEYS[1] state hash   fields: epoch, seq, rev, rebuilding (unix ms until which a rebuild holds it), arm:<name> (blob)
  KEYS[2] markers hash marker -> claimer id (which event claimed it)
  KEYS[3] markers zset marker -> time applied (for expiry of old markers)

  ARGV[1] now (unix ms)   ARGV[2] marker ttl (ms)   ARGV[3] item count n   ARGV[4] check epoch (1|0)
  ARGV[5] seq the values were read at   ARGV[6] rev they were read at ('' = none)   ARGV[7] rev to set (unique)
  then n items of 3 values:  marker, claimer id, epoch
  then m, and m pairs: arm field, new blob

  Every write of the hash increments seq and sets a new rev (replaceState too), and a deleted hash has neither, so
  an unchanged (seq, rev) pair means unchanged arms, even across a delete and re-create.

  Returns {1, seq} when every item was applicable and the state unchanged since the read (values, markers, rev set;
  seq incremented). Otherwise writes nothing and returns {0, s_1..s_n} with per item:
    1 applicable,  2 already applied by this claimer,  3 claimed by another claimer,  4 stale epoch,
    5 claimed by an earlier item of this same call (not final: send it again once that item is applied);
  {-1} when the state hash has no epoch (flushed or never initialised: rebuild first),
  {-2} while a rebuild holds the state (retry shortly),
  {-3} when every item was applicable but the state changed since the read (read again, add again, retry).
]]
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local checkEpoch = ARGV[4] == '1'

local head = redis.call('HMGET', KEYS[1], 'epoch', 'rebuilding', 'seq', 'rev')
local epoch = head[1]
-- A rebuild under way first: a state being rebuilt after it was lost has no epoch yet, and a batch must wait for
-- that rebuild, not start another.
if head[2] and tonumber(head[2]) > now then return {-2} end
if checkEpoch and not epoch then return {-1} end

-- expire old markers, a bounded amount per call
local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - ttl, 'LIMIT', 0, 500)
if #old > 0 then
  redis.call('HDEL', KEYS[2], unpack(old))
  redis.call('ZREM', KEYS[3], unpack(old))
end

local statuses = {0}
local allOk = true
local seen = {}
for i = 0, n - 1 do
  local marker = ARGV[8 + i * 3]
  local claimer = ARGV[9 + i * 3]
  local itemEpoch = ARGV[10 + i * 3]
  local s = 1
  local owner = redis.call('HGET', KEYS[2], marker)
  if owner then
    if owner == claimer then s = 2 else s = 3 end
  elseif seen[marker] then
    s = 5
  elseif checkEpoch and itemEpoch ~= epoch then
    s = 4
  end
  if s == 1 then seen[marker] = claimer end
  if s ~= 1 then allOk = false end
  statuses[#statuses + 1] = s
end
if not allOk then return statuses end
if (head[3] or '0') ~= ARGV[5] or (head[4] or '') ~= ARGV[6] then return {-3} end

local base = 8 + n * 3
local m = tonumber(ARGV[base])
for i = 0, m - 1 do
  redis.call('HSET', KEYS[1], ARGV[base + 1 + i * 2], ARGV[base + 2 + i * 2])
end
for i = 0, n - 1 do
  local marker = ARGV[8 + i * 3]
  redis.call('HSET', KEYS[2], marker, ARGV[9 + i * 3])
  redis.call('ZADD', KEYS[3], now, marker)
end
redis.call('HSET', KEYS[1], 'rev', ARGV[7])
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
return {1, seq}
