--[[
  Confirms "seen" marks: each of KEYS that still exists is set to ARGV[1] (the queued value), its expiry kept.
  A mark that expired meanwhile is not created again. Returns how many were set.
]]
local set = 0
for _, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[1], 'KEEPTTL', 'XX') then set = set + 1 end
end
return set
