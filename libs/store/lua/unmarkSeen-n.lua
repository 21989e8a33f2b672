--[[
  Gives pending "seen" marks back: deletes each of KEYS only while it is pending (its value starts with ARGV[1], the
  pending prefix), so a mark another request has confirmed meanwhile (its job queued) stays. Returns how many were
  deleted.
]]
local deleted = 0
local prefix = ARGV[1]
for _, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v and string.sub(v, 1, #prefix) == prefix then deleted = deleted + redis.call('DEL', key) end
end
return deleted
