-- Renews the leases this replica holds on an API key's calls in flight (keyLimitAdmit-4.lua sets them).
-- KEYS[1]: the key's calls in flight (sorted set: lease token -> lease deadline, ms on Redis's clock).
-- ARGV: lease length (ms), then the lease tokens to renew.
-- Only leases still held are renewed (one past its deadline is not taken again, dropped or not). Returns how many were renewed.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = now + tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV do
  local held = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if held and tonumber(held) > now then
    redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[i])
    renewed = renewed + 1
  end
end
if renewed > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return renewed
