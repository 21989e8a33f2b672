--[[
  Applies a micro-batch of learning items to one state hash, exactly once, atomically.

  KEYS[1] state hash   fields: epoch, seq, rebuilding (unix ms until which a rebuild holds it), arm:<name> (blob)
  KEYS[2] markers hash marker -> claimer id (which event claimed it)
  KEYS[3] markers zset marker -> time applied (for expiry of old markers)

  ARGV[1] now (unix ms)      ARGV[2] marker ttl (ms)      ARGV[3] item count n      ARGV[4] check epoch (1|0)
  then n items of 3 values:  marker, claimer id, epoch
  then m, and m groups of 5: arm field, format, d, heads h, delta blob (little-endian float64s)
    format 0: dense, the stored blob's own layout, added value by value (any length);
    format 1: arm statistics [pulls, obs×h, sum×h, xr (h·d), upper triangle of xx row by row (d(d+1)/2)], added
              to the stored [pulls, obs×h, sum×h, xx (d²), xr (h·d)] with xx mirrored (xx is symmetric);
    format 2: the same without xx (no decision in the batch: Σxxᵀ unchanged).
    A delta for an arm not stored yet (or stored with another length) becomes its value.

  Returns {1, seq} when every item was applicable and all deltas were added (markers set, seq incremented).
  Otherwise applies nothing and returns {0, s_1..s_n} with per item:
    1 applicable,  2 already applied by this claimer,  3 claimed by another claimer,  4 stale epoch,
    5 claimed by an earlier item of this same call (not final: send it again once that item is applied).
  Returns {-1} when the state hash has no epoch (flushed or never initialised: rebuild first),
          {-2} while a rebuild holds the state (retry shortly).
]]
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local checkEpoch = ARGV[4] == '1'

local epoch = redis.call('HGET', KEYS[1], 'epoch')
if checkEpoch and not epoch then return {-1} end
local busy = redis.call('HGET', KEYS[1], 'rebuilding')
if busy and tonumber(busy) > now then return {-2} end

-- expire old markers, a bounded amount per call
local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - ttl, 'LIMIT', 0, 500)
if #old > 0 then
  redis.call('HDEL', KEYS[2], unpack(old))
  redis.call('ZREM', KEYS[3], unpack(old))
end

local statuses = {0}
local allOk = true
local seen = {}
for i = 0, n - 1 do
  local marker = ARGV[5 + i * 3]
  local claimer = ARGV[6 + i * 3]
  local itemEpoch = ARGV[7 + i * 3]
  local s = 1
  local owner = redis.call('HGET', KEYS[2], marker)
  if owner then
    if owner == claimer then s = 2 else s = 3 end
  elseif seen[marker] then
    s = 5
  elseif checkEpoch and itemEpoch ~= epoch then
    s = 4
  end
  if s == 1 then seen[marker] = claimer end
  if s ~= 1 then allOk = false end
  statuses[#statuses + 1] = s
end
if not allOk then return statuses end

local CHUNK = 200
local function addBlobs(cur, delta)
  local count = #delta / 8
  local out = {}
  local pos = 1
  while pos <= count do
    local k = math.min(CHUNK, count - pos + 1)
    local fmt = '<' .. string.rep('d', k)
    local a = {struct.unpack(fmt, cur, (pos - 1) * 8 + 1)}
    local b = {struct.unpack(fmt, delta, (pos - 1) * 8 + 1)}
    for j = 1, k do a[j] = a[j] + b[j] end
    out[#out + 1] = struct.pack(fmt, unpack(a, 1, k))
    pos = pos + k
  end
  return table.concat(out)
end

local function readAll(blob, count)
  local t = {}
  local pos = 1
  while pos <= count do
    local k = math.min(CHUNK, count - pos + 1)
    local v = {struct.unpack('<' .. string.rep('d', k), blob, (pos - 1) * 8 + 1)}
    for j = 1, k do t[pos + j - 1] = v[j] end
    pos = pos + k
  end
  return t
end

-- count values of cur from byte `at` plus b[off + 1 ..], packed, appended to out
local function addRun(out, cur, at, count, b, off)
  local pos = 0
  while pos < count do
    local k = math.min(CHUNK, count - pos)
    local fmt = '<' .. string.rep('d', k)
    local a = {struct.unpack(fmt, cur, at + pos * 8)}
    for j = 1, k do a[j] = a[j] + b[off + pos + j] end
    out[#out + 1] = struct.pack(fmt, unpack(a, 1, k))
    pos = pos + k
  end
end

-- formats 1 and 2, streamed into the dense layout: head and xr added; xx copied as it is (2) or added row by row
-- from the upper triangle, mirrored (1)
local function addStats(cur, delta, format, d, h)
  local head = 1 + 2 * h
  local len = head + d * d + h * d
  if not cur or #cur ~= len * 8 then cur = string.rep('\0', len * 8) end
  local b = readAll(delta, #delta / 8)
  local out = {}
  addRun(out, cur, 1, head, b, 0)
  local xx = head * 8 + 1
  if format == 2 then
    out[#out + 1] = string.sub(cur, xx, xx + d * d * 8 - 1)
  else
    local tri = head + h * d
    local fmt = '<' .. string.rep('d', d)
    for i = 0, d - 1 do
      local r = {struct.unpack(fmt, cur, xx + i * d * 8)}
      for j = 0, i - 1 do
        local k = tri + j * d - j * (j - 1) / 2 + (i - j) + 1
        r[j + 1] = r[j + 1] + b[k]
      end
      local row = tri + i * d - i * (i - 1) / 2 + 1 - i
      for j = i, d - 1 do r[j + 1] = r[j + 1] + b[row + j] end
      out[#out + 1] = struct.pack(fmt, unpack(r, 1, d))
    end
  end
  addRun(out, cur, xx + d * d * 8, h * d, b, head)
  return table.concat(out)
end

local base = 5 + n * 3
local m = tonumber(ARGV[base])
for i = 0, m - 1 do
  local at = base + 1 + i * 5
  local field = ARGV[at]
  local format = tonumber(ARGV[at + 1])
  local delta = ARGV[at + 4]
  local cur = redis.call('HGET', KEYS[1], field)
  if format ~= 0 then
    redis.call('HSET', KEYS[1], field, addStats(cur, delta, format, tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])))
  elseif cur and #cur == #delta then
    redis.call('HSET', KEYS[1], field, addBlobs(cur, delta))
  else
    redis.call('HSET', KEYS[1], field, delta)
  end
end
for i = 0, n - 1 do
  local marker = ARGV[5 + i * 3]
  redis.call('HSET', KEYS[2], marker, ARGV[6 + i * 3])
  redis.call('ZADD', KEYS[3], now, marker)
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
return {1, seq}
