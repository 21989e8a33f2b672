--[[
  Counts events against decisions, never past a limit per decision. KEYS: each decision's event count (a plain
  integer string, which INCRBY/DECRBY also move), any number of them. ARGV[1] the limit per decision, ARGV[2] the
  seconds from now each touched count is kept, ARGV[2 + i] how many more events KEYS[i] wants counted.
  Returns, per key, how many of those fit (0…wanted); only those are counted.
]]
local limit = tonumber(ARGV[1])
local fits = {}
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[2 + i])
  local before = tonumber(redis.call('GET', key) or '0')
  local fit = math.max(0, math.min(n, limit - before))
  if fit > 0 then redis.call('INCRBY', key, fit) end
  if before > 0 or fit > 0 then redis.call('EXPIRE', key, ARGV[2]) end
  fits[i] = fit
end
return fits
