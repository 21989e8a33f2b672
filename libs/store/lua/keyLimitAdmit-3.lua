-- Admits one request of an API key against its limits, in fixed windows (the counters of one key share the hash
-- tag {k:<key id>}, so the three keys are in one slot on Redis Cluster).
-- KEYS[1]: requests in the current minute; KEYS[2]: tokens charged in the current minute; KEYS[3]: USD charged
--          in the current UTC day.
-- ARGV: requests-per-minute limit, tokens-per-minute limit, USD-per-day limit (each 0 = no such limit),
--       TTL of the request counter (ms).
-- Returns 0 when admitted (the request counter is incremented, if there is a request limit), else the limit that
-- refuses it: 1 requests, 2 tokens, 3 USD (nothing is counted then).
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local usd = tonumber(ARGV[3])
if tpm > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= tpm then return 2 end
if usd > 0 and tonumber(redis.call('GET', KEYS[3]) or '0') >= usd then return 3 end
if rpm > 0 then
  if tonumber(redis.call('GET', KEYS[1]) or '0') >= rpm then return 1 end
  if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
end
return 0
