-- Renews the leases this replica holds on an API key's calls in flight (keyLimitAdmit-4.lua takes them): every
-- token named is a call still running here, so a lease Redis no longer has (its data lost in a restart or a
-- failover, or expired while this replica could not reach it) is taken again, and the call counts again.
-- KEYS[1]: the key's calls in flight (sorted set: lease token -> lease deadline, ms on Redis's clock).
-- ARGV: lease length (ms), then the lease tokens to renew.
-- Returns how many of them Redis still held.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = now + tonumber(ARGV[1])
local held = 0
for i = 2, #ARGV do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if s and tonumber(s) > now then held = held + 1 end
  redis.call('ZADD', KEYS[1], deadline, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return held
