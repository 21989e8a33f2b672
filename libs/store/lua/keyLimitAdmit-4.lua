-- Admits one request of an API key against its limits, in fixed windows, and holds a lease on one of its slots
-- for calls in flight (the keys of one API key share the hash tag {k:<key id>}, so they are in one slot on Redis
-- Cluster).
-- KEYS[1]: requests in the current minute; KEYS[2]: tokens charged in the current minute; KEYS[3]: USD charged
--          in the current UTC day; KEYS[4]: the calls in flight (sorted set: lease token -> lease deadline, ms on
--          Redis's clock).
-- ARGV: requests-per-minute limit, tokens-per-minute limit, USD-per-day limit, calls-in-flight limit (each 0 = no
--       such limit), TTL of the request counter (ms), lease token, lease length (ms).
-- Returns 0 when admitted (the request counter is incremented, if there is a request limit; the lease is held, if
-- there is an in-flight limit), else the limit that refuses it: 1 requests, 2 tokens, 3 USD, 4 calls in flight
-- (nothing is counted or held then). Leases whose deadline has passed (a replica that stopped renewing them) are
-- dropped before counting.
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local usd = tonumber(ARGV[3])
local inflight = tonumber(ARGV[4])
if tpm > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= tpm then return 2 end
if usd > 0 and tonumber(redis.call('GET', KEYS[3]) or '0') >= usd then return 3 end
local now
if inflight > 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  if redis.call('ZCARD', KEYS[4]) >= inflight then return 4 end
end
if rpm > 0 then
  if tonumber(redis.call('GET', KEYS[1]) or '0') >= rpm then return 1 end
  if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
end
if inflight > 0 then
  local lease = tonumber(ARGV[7])
  redis.call('ZADD', KEYS[4], now + lease, ARGV[6])
  redis.call('PEXPIRE', KEYS[4], lease)
end
return 0
