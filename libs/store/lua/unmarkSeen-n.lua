--[[
  Gives pending "seen" marks back: deletes each of KEYS only while it holds ARGV[1] (the pending value), so a mark
  another request has confirmed meanwhile (its job queued) stays. Returns how many were deleted.
]]
local deleted = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then deleted = deleted + redis.call('DEL', key) end
end
return deleted
