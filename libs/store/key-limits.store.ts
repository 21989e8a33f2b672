import { type RedisClient } from '@app/infra';
import { RedisKeys } from './keys.js';
import { luaSource } from './lua-source.js';

const LUA = luaSource('keyLimitAdmit-3.lua');

/** A key's limits as the counters enforce them (each 0 = none). */
export interface LimitValues {
  requestsPerMinute: number;
  tokensPerMinute: number;
  usdPerDay: number;
}

/** Which limit refused a request (keyLimitAdmit-3.lua's return codes). */
export const LIMIT_REFUSED = { 1: 'requestsPerMinute', 2: 'tokensPerMinute', 3: 'usdPerDay' } as const;
export type RefusingLimit = (typeof LIMIT_REFUSED)[keyof typeof LIMIT_REFUSED];

/** The fixed windows a request or a charge falls in: minute and UTC day indexes since the epoch. */
export interface LimitWindows {
  minute: number;
  day: number;
}

type LimitsRedis = RedisClient & {
  keyLimitAdmit(requests: string, tokens: string, usd: string, rpm: number, tpm: number, usdPerDay: number, ttlMs: number): Promise<number>;
};

/** Counters live two windows, so a window's count is there until it is over wherever the clocks stand. */
const MINUTE_TTL_MS = 120_000;
const DAY_TTL_MS = 2 * 86_400_000;

/**
 * Per-key request, token and spend counters in fixed windows (a minute, a UTC day), shared by every api replica:
 * an atomic admission (keyLimitAdmit-3.lua) and atomic charges (one MULTI on the key's slot). Every counter
 * expires.
 */
export class KeyLimitsStore {
  private readonly keys: RedisKeys;
  private readonly redis: LimitsRedis;

  constructor(redis: RedisClient, prefix = 'rt') {
    this.keys = new RedisKeys(prefix);
    if (!(redis as unknown as Partial<LimitsRedis>).keyLimitAdmit) redis.defineCommand('keyLimitAdmit', { numberOfKeys: 3, lua: LUA });
    this.redis = redis as unknown as LimitsRedis;
  }

  /** Admits one request of `keyId` (counted), or answers the limit that refuses it (nothing counted). */
  async admit(keyId: string, limits: LimitValues, w: LimitWindows): Promise<RefusingLimit | null> {
    const k = this.keys;
    const code = await this.redis.keyLimitAdmit(
      k.keyLimit(keyId, 'requests', w.minute),
      k.keyLimit(keyId, 'tokens', w.minute),
      k.keyLimit(keyId, 'usd', w.day),
      limits.requestsPerMinute,
      limits.tokensPerMinute,
      limits.usdPerDay,
      MINUTE_TTL_MS,
    );
    return code === 0 ? null : LIMIT_REFUSED[code as keyof typeof LIMIT_REFUSED];
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

  /** The current counters (for tests and diagnostics). */
  async read(keyId: string, w: LimitWindows): Promise<{ requests: number; tokens: number; usd: number }> {
    const k = this.keys;
    const [requests, tokens, usd] = await Promise.all([
      this.redis.get(k.keyLimit(keyId, 'requests', w.minute)),
      this.redis.get(k.keyLimit(keyId, 'tokens', w.minute)),
      this.redis.get(k.keyLimit(keyId, 'usd', w.day)),
    ]);
    return { requests: Number(requests ?? 0), tokens: Number(tokens ?? 0), usd: Number(usd ?? 0) };
  }
}
