import { type RedisClient } from '@app/infra';
import { RedisKeys } from './keys.js';
import { luaSource } from './lua-source.js';

const LUA = luaSource('breaker-1.lua');

export type BreakerState = 'closed' | 'open';
export interface BreakerInfo {
  state: BreakerState;
  failures: number;
  openedAt: number;
  /**
   * Tenants failing the model now (present only when some are): each one's failures in a row, and until when (ms)
   * it may not call the model, its own failures having reached the threshold while the model answered the router.
   */
  tenants?: Record<string, { failures: number; outUntil: number }>;
  /**
   * A check of the model under way (present only then): until when its slot is held, and the tenant whose own
   * failures asked for it (null: the model's count did), which keeps off the model meanwhile (null: no one).
   */
  checking?: { until: number; tenant: string | null };
}

/** What a failure did: counted ('closed'), opened the breaker, or asks the caller to check the model ('check'). */
export type FailureAnswer = BreakerState | 'check';
/** What a check's verdict did: opened the breaker, left it closed, or put the failing tenant out ('tenant'). */
export type VerdictAnswer = BreakerState | 'tenant';

export interface BreakerSettings {
  /** Consecutive failures that open a model's breaker. */
  threshold: number;
  /** How long an open breaker keeps the model out before one probe request may try it. */
  cooldownMs: number;
  /** How long a probe holds the half-open slot (a probe that never reports frees it after this). */
  probeTtlMs: number;
}

type BreakerRedis = RedisClient & {
  breaker(
    key: string,
    op: string,
    model: string,
    now: number,
    threshold: number,
    cooldown: number,
    ttl: number,
    probe?: number | string,
    admittedAt?: number | string,
    tenant?: string,
  ): Promise<string>;
};

/** One breaker's JSON state (breaker-1.lua) as the replicas read it. */
function parseBreaker(raw: string): BreakerInfo {
  const s = JSON.parse(raw) as Omit<BreakerInfo, 'tenants' | 'checking'> & {
    tenants?: Record<string, { f: number; out: number }>;
    checkUntil?: number;
    checkTenant?: string;
  };
  const tenants = Object.entries(s.tenants ?? {}).map(([t, e]) => [t, { failures: e.f, outUntil: e.out }] as const);
  return {
    state: s.state,
    failures: s.failures,
    openedAt: s.openedAt,
    ...(tenants.length > 0 ? { tenants: Object.fromEntries(tenants) } : {}),
    ...(s.checkUntil ? { checking: { until: s.checkUntil, tenant: s.checkTenant || null } } : {}),
  };
}

/** Per-model circuit breakers in one Redis hash, so every api replica sees the same state (breaker-1.lua). */
export class BreakerStore {
  private readonly keys: RedisKeys;
  private readonly redis: BreakerRedis;

  constructor(redis: RedisClient, prefix = 'rt') {
    this.keys = new RedisKeys(prefix);
    if (!(redis as unknown as Partial<BreakerRedis>).breaker) redis.defineCommand('breaker', { numberOfKeys: 1, lua: LUA });
    this.redis = redis as unknown as BreakerRedis;
  }

  /**
   * A failed call of `model`. `probe`: the grant time of the half-open probe the call held (null: none); an open
   * breaker counts only its probe's failure. `admittedAt`: when the call was let through (null: not known); a
   * call admitted before the breaker last closed is not counted. `tenant`: whose call it was (null: not known).
   * 'check' when the failures reached the threshold: the caller checks the model and reports with `verdict`
   * (breaker-1.lua).
   */
  failure(
    model: string,
    s: BreakerSettings,
    now = Date.now(),
    probe: number | null = null,
    admittedAt: number | null = null,
    tenant: string | null = null,
  ): Promise<FailureAnswer> {
    return this.redis.breaker(
      this.keys.breakers(),
      'fail',
      model,
      now,
      s.threshold,
      s.cooldownMs,
      s.probeTtlMs,
      probe ?? '',
      admittedAt ?? '',
      tenant ?? '',
    ) as Promise<FailureAnswer>;
  }

  /** The router's check of the model, granted by the failure that answered 'check' at `grantedAt`. */
  verdict(model: string, s: BreakerSettings, grantedAt: number, verdict: 'up' | 'down' | 'none', now = Date.now()): Promise<VerdictAnswer> {
    return this.redis.breaker(
      this.keys.breakers(),
      'verdict',
      model,
      now,
      s.threshold,
      s.cooldownMs,
      s.probeTtlMs,
      grantedAt,
      verdict,
    ) as Promise<VerdictAnswer>;
  }

  /** A call of `tenant` (null: the router's own probe) that worked. */
  success(model: string, s: BreakerSettings, now = Date.now(), tenant: string | null = null): Promise<string> {
    return this.redis.breaker(this.keys.breakers(), 'ok', model, now, s.threshold, s.cooldownMs, s.probeTtlMs, '', '', tenant ?? '');
  }

  /** 'probe' when this caller may try an open model (exactly one caller per cool-down), else its state. */
  probe(model: string, s: BreakerSettings, now = Date.now()): Promise<string> {
    return this.redis.breaker(this.keys.breakers(), 'probe', model, now, s.threshold, s.cooldownMs, s.probeTtlMs);
  }

  /**
   * Frees the slot of the probe granted at `grantedAt` (the `now` its `probe` was called with) when it ended without a
   * verdict: the next caller may probe at once. A later caller's probe, or a verdict already given, is left alone.
   */
  release(model: string, s: BreakerSettings, grantedAt: number): Promise<string> {
    return this.redis.breaker(this.keys.breakers(), 'release', model, grantedAt, s.threshold, s.cooldownMs, s.probeTtlMs);
  }

  async all(): Promise<Map<string, BreakerInfo>> {
    const raw = await this.redis.hgetall(this.keys.breakers());
    const out = new Map<string, BreakerInfo>();
    for (const [model, v] of Object.entries(raw)) {
      out.set(model, parseBreaker(v));
    }
    return out;
  }
}
