--[[
  Marks event ids as seen: each of KEYS (an event id's mark) is set to ARGV[1] (the pending value) for ARGV[2]
  seconds unless it exists. Returns, per key, the value it found (nil: this call set it), as SET … NX GET does.
]]
local found = {}
for i, key in ipairs(KEYS) do
  found[i] = redis.call('SET', key, ARGV[1], 'EX', ARGV[2], 'NX', 'GET')
end
return found
