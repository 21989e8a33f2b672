-- Per-model circuit breaker, shared by every api replica (one hash field per model, JSON state).
-- KEYS[1]: the breakers hash.
-- ARGV: op ('fail' | 'ok' | 'probe' | 'release'), model, now (ms), threshold (consecutive failures), cooldown (ms),
--       probe ttl (ms); for 'fail', the grant time of the failing call's probe (none: the call held no probe) and
--       when the failing call was admitted (none: not known).
-- State: {state = 'closed' | 'open', failures, openedAt, probeUntil, closedAt}.
--  fail : closed: failures + 1, opens at `threshold`, except a call admitted before the breaker last closed (it
--         was admitted in an earlier round of failures, and its late failure says nothing of the model since).
--         Open: only the half-open probe's own failure (its grant time matching probeUntil) counts, and re-opens
--         it (a fresh cool-down); a call admitted before it opened that fails late leaves it as it is. So one
--         caller's late failures cannot keep a model out. Returns state.
--  ok   : closes and resets (closedAt = now when it was open). Returns 'closed'.
--  probe: for an open breaker whose cool-down has passed, lets exactly one caller through (probeUntil = now +
--         ttl) and returns 'probe'; otherwise returns the current state.
--  release: a probe granted at `now` that ended without a verdict (the upstream's own 4xx relayed, the client gone,
--         the model not callable as configured) frees its slot, so the next caller may probe at once; only that
--         probe's slot (probeUntil = now + ttl), not a later caller's. Returns the state.
local raw = redis.call('HGET', KEYS[1], ARGV[2])
local s = raw and cjson.decode(raw) or { state = 'closed', failures = 0, openedAt = 0, probeUntil = 0 }
local now = tonumber(ARGV[3])
local op = ARGV[1]
if op == 'ok' then
  s = { state = 'closed', failures = 0, openedAt = 0, probeUntil = 0, closedAt = s.state == 'open' and now or (s.closedAt or 0) }
elseif op == 'fail' then
  local admitted = tonumber(ARGV[8])
  if s.state == 'closed' and admitted and admitted < (s.closedAt or 0) then
    return s.state
  end
  if s.state == 'open' then
    local probe = tonumber(ARGV[7])
    if not probe or s.probeUntil ~= probe + tonumber(ARGV[6]) then
      return s.state
    end
  end
  s.failures = s.failures + 1
  if s.state == 'open' or s.failures >= tonumber(ARGV[4]) then
    s.state = 'open'
    s.openedAt = now
    s.probeUntil = 0
  end
elseif op == 'probe' then
  if s.state == 'open' and now - s.openedAt >= tonumber(ARGV[5]) and now >= s.probeUntil then
    s.probeUntil = now + tonumber(ARGV[6])
    redis.call('HSET', KEYS[1], ARGV[2], cjson.encode(s))
    return 'probe'
  end
  return s.state
elseif op == 'release' then
  if s.state ~= 'open' or s.probeUntil ~= now + tonumber(ARGV[6]) then
    return s.state
  end
  s.probeUntil = 0
end
redis.call('HSET', KEYS[1], ARGV[2], cjson.encode(s))
return s.state
