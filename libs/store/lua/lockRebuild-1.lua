--[[
  Takes (or, with the same token, extends) the rebuild lock of a policy's state: commitBatch answers "busy" until
  it is released or expires. A lock another rebuild holds is not taken over: two rebuilds racing would each throw
  the other's work away (a state lost under traffic makes every worker pass and every api replica want one).
  KEYS[1] state hash.  ARGV[1] now (ms)  ARGV[2] lock duration (ms)  ARGV[3] token.
  Returns the seq at lock time (0 if none), or -1 while another token holds the lock.
]]
local now = tonumber(ARGV[1])
local heldUntil = tonumber(redis.call('HGET', KEYS[1], 'rebuilding') or '0')
if heldUntil > now and redis.call('HGET', KEYS[1], 'rebuildToken') ~= ARGV[3] then return -1 end
redis.call('HSET', KEYS[1], 'rebuilding', now + tonumber(ARGV[2]), 'rebuildToken', ARGV[3])
return tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
