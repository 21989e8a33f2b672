--[[
  Gives a pending "seen" mark back: deletes KEYS[1] only while it holds ARGV[1] (the pending value), so a mark
  another request has confirmed meanwhile (its job queued) stays. Returns 1 if deleted, else 0.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
