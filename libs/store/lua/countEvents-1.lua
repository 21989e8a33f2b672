--[[
  Counts up to ARGV[1] more events against one decision, never past ARGV[2] in all, and keeps the count ARGV[3]
  seconds from now. KEYS[1] the decision's event count (a plain integer string, which INCRBY/DECRBY also move).
  Returns how many of the ARGV[1] fit (0…ARGV[1]); only those are counted.
]]
local n = tonumber(ARGV[1])
local before = tonumber(redis.call('GET', KEYS[1]) or '0')
local fit = math.max(0, math.min(n, tonumber(ARGV[2]) - before))
if fit > 0 then redis.call('INCRBY', KEYS[1], fit) end
if before > 0 or fit > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return fit
