-- Admits the events (feedback, pairwise, energy readings) of one request of an API key against its events per
-- minute, in fixed windows. KEYS[1]: the events counted in the current minute (hash-tagged with the key's other
-- counters). ARGV: events-per-minute limit, the request's events, TTL of the counter (ms).
-- Returns 0 when admitted (its events are counted), else 1 (the minute's count plus the request's events would pass
-- the limit; nothing is counted).
local n = tonumber(ARGV[2])
if tonumber(redis.call('GET', KEYS[1]) or '0') + n > tonumber(ARGV[1]) then return 1 end
if redis.call('INCRBY', KEYS[1], n) == n then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 0
