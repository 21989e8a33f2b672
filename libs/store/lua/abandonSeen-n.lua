--[[
  Leaves pending "seen" marks to the next sender of their ids: each of KEYS that still holds ARGV[1] (the pending
  value) is given ARGV[2] ms to live, which markSeen-n.lua reads as a mark past its stale age, so the next copy of
  the id takes it over at once (0 or less: the mark is deleted). For events a failed request may or may not have
  queued: a mark another request has confirmed meanwhile (its job queued) stays. Returns how many were aged.
]]
local aged = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then aged = aged + redis.call('PEXPIRE', key, ARGV[2]) end
end
return aged
