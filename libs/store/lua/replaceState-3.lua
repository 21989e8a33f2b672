--[[
  Replaces a policy's learning state with a freshly folded one (rebuild) or an empty one (create, reset).

  KEYS[1] state hash   KEYS[2] markers hash   KEYS[3] markers zset
  ARGV[1] now (ms)   ARGV[2] epoch   ARGV[3] expected rebuild token ('' = do not check)   ARGV[4] rev to set (unique)
  ARGV[5] marker count k, then k pairs: marker, claimer   then m, and m pairs: arm field, blob

  The new state keeps seq increasing (so replicas notice), takes a new rev (so a commitBatch prepared from a read
  before it fails) and clears the rebuild lock. Markers for every folded
  item are set so batches still in flight do not apply them a second time. Returns {1, seq}, or {0} if the
  rebuild lock is no longer held with this token: another rebuild took over, or the lock expired (batches may
  have been applied since, and replacing would drop them while keeping their markers).
]]
local now = tonumber(ARGV[1])
if ARGV[3] ~= '' then
  local token = redis.call('HGET', KEYS[1], 'rebuildToken')
  if token ~= ARGV[3] then return {0} end
  local lockedUntil = tonumber(redis.call('HGET', KEYS[1], 'rebuilding') or '0')
  if lockedUntil < now then return {0} end
end
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0') + 1
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'seq', seq, 'rev', ARGV[4])
local k = tonumber(ARGV[5])
for i = 0, k - 1 do
  redis.call('HSET', KEYS[2], ARGV[6 + i * 2], ARGV[7 + i * 2])
  redis.call('ZADD', KEYS[3], now, ARGV[6 + i * 2])
end
local base = 6 + k * 2
local m = tonumber(ARGV[base])
for i = 0, m - 1 do
  redis.call('HSET', KEYS[1], ARGV[base + 1 + i * 2], ARGV[base + 2 + i * 2])
end
return {1, seq}
