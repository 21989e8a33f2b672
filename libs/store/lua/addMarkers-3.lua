--[[
  Sets markers of a rebuild ahead of its replaceState, in the same MULTI transaction: a fold of a long log has more
  markers than one command may carry (hundreds of thousands), so they go in chunks, and the transaction keeps the
  replacement atomic (no batch sees markers without the state they describe).

  KEYS[1] state hash   KEYS[2] markers hash   KEYS[3] markers zset
  ARGV[1] now (ms)   ARGV[2] expected rebuild token   then pairs: marker, claimer

  Writes only while the rebuild lock is held with this token (as replaceState checks it): returns 1, else 0 and
  writes nothing (the replaceState after it in the transaction then refuses too).
]]
local now = tonumber(ARGV[1])
local token = redis.call('HGET', KEYS[1], 'rebuildToken')
if token ~= ARGV[2] then return 0 end
local lockedUntil = tonumber(redis.call('HGET', KEYS[1], 'rebuilding') or '0')
if lockedUntil < now then return 0 end
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[3], now, ARGV[i])
end
return 1
