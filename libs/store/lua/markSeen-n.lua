--[[
  Marks event ids as seen: each of KEYS (an event id's mark) is set to ARGV[1] (the pending value) for ARGV[2]
  seconds unless it exists. Returns, per key, the value it found (nil: this call set it), as SET … NX GET does,
  except for a pending mark older than ARGV[3] ms (when given): the request that set it is taken to have failed
  without giving it back, so this call takes it over (sets it again, its age 0) and answers 'taken'. A mark's age is
  ARGV[2] s minus the time it has left, on Redis's clock: nothing but the pending value is stored, so replicas of
  an earlier version read it as they did. A mark with more time left than ARGV[2] s was set under a longer
  EVENT_DEDUP_TTL_SECONDS: its age is not known, and it is taken over too.
]]
local stale = tonumber(ARGV[3])
local found = {}
for i, key in ipairs(KEYS) do
  local before = redis.call('SET', key, ARGV[1], 'EX', ARGV[2], 'NX', 'GET')
  local age = stale and before == ARGV[1] and tonumber(ARGV[2]) * 1000 - redis.call('PTTL', key)
  if age and (age >= stale or age < 0) then
    redis.call('SET', key, ARGV[1], 'EX', ARGV[2])
    before = 'taken'
  end
  found[i] = before
end
return found
