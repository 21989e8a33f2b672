--[[
  Takes the rebuild lock of a policy's state: commitBatch answers "busy" until it is released or expires.
  KEYS[1] state hash.  ARGV[1] now (ms)  ARGV[2] lock duration (ms)  ARGV[3] token.
  Returns the seq at lock time (0 if none).
]]
redis.call('HSET', KEYS[1], 'rebuilding', tonumber(ARGV[1]) + tonumber(ARGV[2]), 'rebuildToken', ARGV[3])
return tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
