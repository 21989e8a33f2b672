import { type RedisClient } from '@app/infra';
import { RedisKeys } from './keys.js';
import { luaSource } from './lua-source.js';

const ADMIT_LUA = luaSource('keyLimitAdmit-4.lua');
const RENEW_LUA = luaSource('keyInFlightRenew-1.lua');
const EVENTS_LUA = luaSource('keyEventsAdmit-1.lua');

/** A key's limits as the counters enforce them (each 0 = none). */
export interface LimitValues {
  requestsPerMinute: number;
  tokensPerMinute: number;
  usdPerDay: number;
  concurrentRequests: number;
}

/** Which limit refused a request (keyLimitAdmit-4.lua's return codes). */
export const LIMIT_REFUSED = { 1: 'requestsPerMinute', 2: 'tokensPerMinute', 3: 'usdPerDay', 4: 'concurrentRequests' } as const;
export type RefusingLimit = (typeof LIMIT_REFUSED)[keyof typeof LIMIT_REFUSED];

/** The fixed windows a request or a charge falls in: minute and UTC day indexes since the epoch. */
export interface LimitWindows {
  minute: number;
  day: number;
}

type LimitsRedis = RedisClient & {
  keyLimitAdmit(
    requests: string,
    tokens: string,
    usd: string,
    inFlight: string,
    rpm: number,
    tpm: number,
    usdPerDay: number,
    concurrent: number,
    ttlMs: number,
    lease: string,
    leaseMs: number,
  ): Promise<number>;
  keyInFlightRenew(inFlight: string, leaseMs: number, ...leases: string[]): Promise<number>;
  keyEventsAdmit(events: string, limit: number, n: number, ttlMs: number): Promise<number>;
};

/** Counters live two windows, so a window's count is there until it is over wherever the clocks stand. */
const MINUTE_TTL_MS = 120_000;
const DAY_TTL_MS = 2 * 86_400_000;

/**
 * Per-key request, token and spend counters in fixed windows (a minute, a UTC day), and leases on the calls a key
 * has in flight, shared by every api replica: an atomic admission (keyLimitAdmit-4.lua; events, counted apart:
 * keyEventsAdmit-1.lua), atomic charges (one MULTI
 * on the key's slot), leases renewed by the replica that holds them (keyInFlightRenew-1.lua) and released when the
 * call ends. Every counter expires; a lease expires `leaseMs` after it was last taken or renewed, on Redis's clock.
 */
export class KeyLimitsStore {
  private readonly keys: RedisKeys;
  private readonly redis: LimitsRedis;

  constructor(redis: RedisClient, prefix = 'rt') {
    this.keys = new RedisKeys(prefix);
    const r = redis as unknown as Partial<LimitsRedis>;
    if (!r.keyLimitAdmit) redis.defineCommand('keyLimitAdmit', { numberOfKeys: 4, lua: ADMIT_LUA });
    if (!r.keyInFlightRenew) redis.defineCommand('keyInFlightRenew', { numberOfKeys: 1, lua: RENEW_LUA });
    if (!r.keyEventsAdmit) redis.defineCommand('keyEventsAdmit', { numberOfKeys: 1, lua: EVENTS_LUA });
    this.redis = redis as unknown as LimitsRedis;
  }

  /**
   * Admits one request of `keyId` (counted, and holding `lease` for `leaseMs` when the key limits its calls in
   * flight), or answers the limit that refuses it (nothing counted or held).
   */
  async admit(keyId: string, limits: LimitValues, w: LimitWindows, lease = '', leaseMs = 0): Promise<RefusingLimit | null> {
    const k = this.keys;
    if (limits.concurrentRequests > 0 && !(lease && leaseMs > 0)) throw new Error('a limit on calls in flight needs a lease and its length');
    const code = await this.redis.keyLimitAdmit(
      k.keyLimit(keyId, 'requests', w.minute),
      k.keyLimit(keyId, 'tokens', w.minute),
      k.keyLimit(keyId, 'usd', w.day),
      k.keyInFlight(keyId),
      limits.requestsPerMinute,
      limits.tokensPerMinute,
      limits.usdPerDay,
      limits.concurrentRequests,
      MINUTE_TTL_MS,
      lease,
      leaseMs,
    );
    return code === 0 ? null : LIMIT_REFUSED[code as keyof typeof LIMIT_REFUSED];
  }

  /**
   * Admits a request carrying `n` events of `keyId` under its limit of events per minute (keyEventsAdmit-1.lua):
   * true, counted, when the minute's count plus `n` stays within `limit`; false, nothing counted, otherwise.
   */
  async admitEvents(keyId: string, n: number, limit: number, w: LimitWindows): Promise<boolean> {
    return (await this.redis.keyEventsAdmit(this.keys.keyLimit(keyId, 'events', w.minute), limit, n, MINUTE_TTL_MS)) === 0;
  }

  /**
   * Extends the leases of calls still in flight here to `leaseMs` from now, taking again any that Redis lost;
   * answers how many Redis still held.
   */
  async renew(keyId: string, leases: string[], leaseMs: number): Promise<number> {
    return leases.length === 0 ? 0 : this.redis.keyInFlightRenew(this.keys.keyInFlight(keyId), leaseMs, ...leases);
  }

  /** Ends the leases of calls that are over (a lease not held is ignored). */
  async release(keyId: string, leases: string[]): Promise<void> {
    if (leases.length > 0) await this.redis.zrem(this.keys.keyInFlight(keyId), ...leases);
  }

  /** Adds what a call used to the key's token count of the minute and spend of the day (only positive amounts). */
  async charge(keyId: string, amounts: { tokens: number; usd: number }, w: LimitWindows): Promise<void> {
    if (amounts.tokens <= 0 && amounts.usd <= 0) return;
    const m = this.redis.multi();
    if (amounts.tokens > 0) {
      const key = this.keys.keyLimit(keyId, 'tokens', w.minute);
      m.incrby(key, Math.round(amounts.tokens)).pexpire(key, MINUTE_TTL_MS);
    }
    if (amounts.usd > 0) {
      const key = this.keys.keyLimit(keyId, 'usd', w.day);
      m.incrbyfloat(key, amounts.usd).pexpire(key, DAY_TTL_MS);
    }
    const r = await m.exec();
    const failed = r?.find(([err]) => err);
    if (!r || failed) throw failed?.[0] ?? new Error('charge transaction aborted');
  }

  /** The current counters, and the leases held now (for tests and diagnostics). */
  async read(keyId: string, w: LimitWindows): Promise<{ requests: number; tokens: number; usd: number; events: number; inFlight: number }> {
    const k = this.keys;
    const [requests, tokens, usd, events, time] = await Promise.all([
      this.redis.get(k.keyLimit(keyId, 'requests', w.minute)),
      this.redis.get(k.keyLimit(keyId, 'tokens', w.minute)),
      this.redis.get(k.keyLimit(keyId, 'usd', w.day)),
      this.redis.get(k.keyLimit(keyId, 'events', w.minute)),
      this.redis.time(),
    ]);
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    const inFlight = await this.redis.zcount(k.keyInFlight(keyId), `(${now}`, '+inf');
    return { requests: Number(requests ?? 0), tokens: Number(tokens ?? 0), usd: Number(usd ?? 0), events: Number(events ?? 0), inFlight };
  }
}
