import { type KeyLimits } from '@app/contracts';
import { type LimitValues, type LimitWindows, type RefusingLimit } from '@app/store';

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** The fixed windows `now` falls in: the minute and the UTC day since the epoch. */
export const limitWindows = (now: number): LimitWindows => ({ minute: Math.floor(now / MINUTE_MS), day: Math.floor(now / DAY_MS) });

/**
 * Whole seconds until the window of `limit` ends (at least 1): when a refused request can succeed again. A limit on
 * calls in flight has no window: a slot frees whenever a call ends, so 1 s.
 */
export function retryAfterSeconds(limit: RefusingLimit | 'eventsPerMinute', now: number): number {
  if (limit === 'concurrentRequests') return 1;
  const size = limit === 'usdPerDay' ? DAY_MS : MINUTE_MS;
  return Math.max(1, Math.ceil((size - (now % size)) / 1000));
}

/** A key's limits as the counters take them (0 = none), or null when it has none (nothing to count). */
export function limitValues(l: KeyLimits | null | undefined): LimitValues | null {
  if (!l) return null;
  const v = {
    requestsPerMinute: l.requestsPerMinute ?? 0,
    tokensPerMinute: l.tokensPerMinute ?? 0,
    usdPerDay: l.usdPerDay ?? 0,
    concurrentRequests: l.concurrentRequests ?? 0,
  };
  return v.requestsPerMinute > 0 || v.tokensPerMinute > 0 || v.usdPerDay > 0 || v.concurrentRequests > 0 ? v : null;
}

/**
 * What to charge a key for a call: only the amounts it has a limit on (counting starts when a limit is set), or
 * null when there is nothing to charge.
 */
export function chargeFor(l: KeyLimits | null | undefined, tokens: number, usd: number | null): { tokens: number; usd: number } | null {
  const t = l?.tokensPerMinute !== undefined && tokens > 0 ? tokens : 0;
  const u = l?.usdPerDay !== undefined && usd !== null && usd > 0 ? usd : 0;
  return t > 0 || u > 0 ? { tokens: t, usd: u } : null;
}
