-- Per-model circuit breaker, shared by every api replica (one hash field per model, JSON state).
-- KEYS[1]: the breakers hash.
-- ARGV: op ('fail' | 'ok' | 'probe' | 'release' | 'verdict'), model, now (ms), threshold (failures in a row), cooldown
--       (ms), probe ttl (ms); then per op: 'fail': the grant time of the failing call's probe (none: the call held no
--       probe), when the failing call was admitted (none: not known), its tenant (none: not known); 'ok': -, -, the
--       tenant; 'verdict': the check's grant time, 'up' | 'down' | 'none'.
-- State: {state = 'closed' | 'open', failures, openedAt, probeUntil, closedAt, checkUntil, checkTenant,
--         tenants = {[tenant] = {f = its failures in a row, out = until when it may not call the model (ms)}}}.
--  fail : closed: failures + 1 and the tenant's own + 1, except a call admitted before the breaker last closed or
--         last checked healthy (its late failure says nothing of the model since), and a call of a tenant that is
--         out of the model. When either count reaches `threshold`, and no check is under way, returns 'check': the
--         caller runs the router's own health check of the model and reports it with 'verdict' (checkUntil = now +
--         ttl holds the slot). The failures may be the caller's own doing (its parameters, its prompts), so the
--         model is not opened for every tenant on them alone.
--         Open: only the half-open probe's own failure (its grant time matching probeUntil) counts, and re-opens
--         it (a fresh cool-down); a call admitted before it opened that fails late leaves it as it is. Returns state.
--  verdict: the check granted at that time: 'down' opens the breaker for everyone; 'up' (the model answers the
--         router) clears the count, and the tenant whose own failures reached the threshold (checkTenant) is out of
--         the model for a cool-down, returning 'tenant'; 'none' frees the slot. A stale grant changes nothing.
--  ok   : open: closes and resets (closedAt = now). Closed: clears the count and the tenant's own. Returns 'closed'.
--  probe: for an open breaker whose cool-down has passed, lets exactly one caller through (probeUntil = now +
--         ttl) and returns 'probe'; otherwise returns the current state.
--  release: a probe granted at `now` that ended without a verdict (the model not callable as configured, its check
--         out of time unsent) frees its slot, so the next caller may probe at once; only that probe's slot
--         (probeUntil = now + ttl), not a later caller's. Returns the state.
-- Tenants with no failures and no time out are dropped from the state, so it holds at most the tenants failing now.
local raw = redis.call('HGET', KEYS[1], ARGV[2])
local s = raw and cjson.decode(raw) or { state = 'closed', failures = 0, openedAt = 0, probeUntil = 0 }
local now = tonumber(ARGV[3])
local threshold = tonumber(ARGV[4])
local ttl = tonumber(ARGV[6])
local op = ARGV[1]
if type(s.tenants) ~= 'table' then s.tenants = {} end

local function tenant(name)
  if not name or name == '' then return nil end
  local e = s.tenants[name]
  if not e then
    e = { f = 0, out = 0 }
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
  if s.state == 'closed' then
    local e = tenant(ARGV[9])
    if (admitted and admitted < (s.closedAt or 0)) or (e and e.out > now) then
      return s.state
    end
    s.failures = s.failures + 1
    if e then e.f = e.f + 1 end
    local mine = e and e.f >= threshold
    if (s.failures >= threshold or mine) and now >= (s.checkUntil or 0) then
      s.checkUntil = now + ttl
      s.checkTenant = mine and ARGV[9] or ''
      answer = 'check'
    end
  else
    local probe = tonumber(ARGV[7])
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
    local e = tenant(s.checkTenant)
    if e then
      e.f = 0
      e.out = now + tonumber(ARGV[5])
      answer = 'tenant'
    end
  end
  s.checkTenant = nil
elseif op == 'probe' then
  if s.state == 'open' and now - s.openedAt >= tonumber(ARGV[5]) and now >= s.probeUntil then
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
for name, e in pairs(s.tenants) do
  if e.f == 0 and e.out <= now then s.tenants[name] = nil end
end
redis.call('HSET', KEYS[1], ARGV[2], cjson.encode(s))
return answer or s.state
