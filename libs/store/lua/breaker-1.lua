-- Per-model circuit breaker, shared by every api replica (one hash field per model, JSON state).
-- KEYS[1]: the breakers hash.
-- ARGV: op ('fail' | 'ok' | 'probe' | 'release' | 'verdict'), model, now (ms), threshold (failures in a row), cooldown
--       (ms), probe ttl (ms); then per op: 'fail': the grant time of the failing call's probe (none: the call held no
--       probe), when the failing call was admitted (none: not known), its tenant (none: not known); 'ok': -, -, the
--       tenant; 'verdict': the check's grant time, 'up' | 'down' | 'none'.
-- State: {state = 'closed' | 'open', failures, openedAt, probeUntil, closedAt, checkUntil, checkTenant,
--         tenants = {[tenant] = {f = its failures in a row, at = its last failure (ms), out = until when it may not
--         call the model (ms)}}}.
--  fail : closed: failures + 1 and the tenant's own + 1, except a call admitted before the breaker last closed or
--         last checked healthy (its late failure says nothing of the model since), and a call of a tenant that is
--         out of the model. When either count reaches `threshold`, and no check is under way, returns 'check': the
--         caller runs the router's own health check of the model and reports it with 'verdict' (checkUntil = now +
--         ttl holds the slot; checkTenant names the tenant whose own count reached it, '' when only the model's
--         did). Meanwhile that tenant keeps off the model (no one, for ''). The failures may be the caller's
--         own doing (its parameters, its prompts), so the model is not opened for every tenant on them alone.
--         A tenant's failures are in a row only within a cool-down of each other. A check for the model's count
--         alone is granted at most once a MODEL_CHECK_GAP_MS (modelCheckAt).
--         Open: only the half-open probe's own failure (its grant time matching probeUntil) counts, and re-opens
--         it (a fresh cool-down); a call admitted before it opened that fails late leaves it as it is, and so does a
--         probe's failure reported after the breaker closed. Returns state.
--  verdict: the check granted at that time: 'down' opens the breaker for everyone; 'up' (the model answers the
--         router) clears the model's count, and the tenant whose own failures reached the threshold, if they still
--         do, is out of the model for a cool-down ('tenant'); a check for the model's count alone clears every
--         tenant's count too. 'none' frees the slot. A stale grant changes nothing.
--  ok   : open: closes and resets (closedAt = now). Closed: clears the count and the tenant's own. Returns 'closed'.
--  probe: for an open breaker whose cool-down has passed, lets exactly one caller through (probeUntil = now +
--         ttl) and returns 'probe'; otherwise returns the current state.
--  release: a probe granted at `now` that ended without a verdict (the model not callable as configured, its check
--         out of time unsent) frees its slot, so the next caller may probe at once; only that probe's slot
--         (probeUntil = now + ttl), not a later caller's. Returns the state.
-- Tenants leave the state when they are not out and have no failure within a cool-down; beyond MAX_TENANTS the
-- ones failed longest ago that are not out leave first, so the state stays small whatever many tenants do.
local raw = redis.call('HGET', KEYS[1], ARGV[2])
local s = raw and cjson.decode(raw) or { state = 'closed', failures = 0, openedAt = 0, probeUntil = 0 }
local now = tonumber(ARGV[3])
local threshold = tonumber(ARGV[4])
local ttl = tonumber(ARGV[6])
local cooldown = tonumber(ARGV[5])
local op = ARGV[1]
local MAX_TENANTS = 64
-- A check for the model's count alone (no tenant named) comes at most this often: tenants that take turns failing
-- and succeeding, none reaching its own count, could otherwise make the router check the model after every few calls.
local MODEL_CHECK_GAP_MS = 1000
if type(s.tenants) ~= 'table' then s.tenants = {} end

local function tenant(name)
  if not name or name == '' then return nil end
  local e = s.tenants[name]
  if not e then
    e = { f = 0, out = 0, at = 0 }
    s.tenants[name] = e
  end
  return e
end

local function open()
  s.state = 'open'
  s.openedAt = now
  s.probeUntil = 0
  s.checkUntil = 0
  for _, e in pairs(s.tenants) do e.f = 0 end
end

local answer = nil
if op == 'ok' then
  if s.state == 'open' then
    s.state = 'closed'
    s.openedAt = 0
    s.probeUntil = 0
    s.closedAt = now
  end
  s.failures = 0
  local e = tenant(ARGV[9])
  if e then e.f = 0 end
elseif op == 'fail' then
  local admitted = tonumber(ARGV[8])
  local probe = tonumber(ARGV[7])
  if s.state == 'closed' then
    local e = tenant(ARGV[9])
    if probe or (admitted and admitted < (s.closedAt or 0)) or (e and e.out > now) then
      return s.state
    end
    s.failures = s.failures + 1
    if e then
      if now - (e.at or 0) > cooldown then e.f = 0 end
      e.f = e.f + 1
      e.at = now
    end
    local mine = e and e.f >= threshold
    local spaced = now - (s.modelCheckAt or 0) >= MODEL_CHECK_GAP_MS
    if (mine or (s.failures >= threshold and spaced)) and now >= (s.checkUntil or 0) then
      s.checkUntil = now + ttl
      s.checkTenant = mine and ARGV[9] or ''
      if not mine then s.modelCheckAt = now end
      answer = 'check'
    end
  else
    if not probe or s.probeUntil ~= probe + ttl then
      return s.state
    end
    s.failures = s.failures + 1
    open()
  end
elseif op == 'verdict' then
  if s.state ~= 'closed' or (s.checkUntil or 0) ~= tonumber(ARGV[7]) + ttl then
    return s.state
  end
  local verdict = ARGV[8]
  s.checkUntil = 0
  if verdict == 'down' then
    open()
  elseif verdict == 'up' then
    s.failures = 0
    s.closedAt = now
    local named = s.checkTenant and s.checkTenant ~= ''
    local e = named and s.tenants[s.checkTenant] or nil
    if e and e.f >= threshold then
      e.f = 0
      e.out = now + cooldown
      answer = 'tenant'
    elseif not named then
      for _, t in pairs(s.tenants) do t.f = 0 end
    end
  end
  s.checkTenant = nil
elseif op == 'probe' then
  if s.state == 'open' and now - s.openedAt >= cooldown and now >= s.probeUntil then
    s.probeUntil = now + ttl
    redis.call('HSET', KEYS[1], ARGV[2], cjson.encode(s))
    return 'probe'
  end
  return s.state
elseif op == 'release' then
  if s.state ~= 'open' or s.probeUntil ~= now + ttl then
    return s.state
  end
  s.probeUntil = 0
end
local kept = {}
for name, e in pairs(s.tenants) do
  if e.out <= now and (e.f == 0 or now - (e.at or 0) > cooldown) then
    s.tenants[name] = nil
  elseif e.out <= now then
    kept[#kept + 1] = name
  end
end
if #kept > MAX_TENANTS then
  table.sort(kept, function(a, b) return (s.tenants[a].at or 0) < (s.tenants[b].at or 0) end)
  for i = 1, #kept - MAX_TENANTS do s.tenants[kept[i]] = nil end
end
redis.call('HSET', KEYS[1], ARGV[2], cjson.encode(s))
return answer or s.state
