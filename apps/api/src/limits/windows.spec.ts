import { chargeFor, DAY_MS, limitValues, limitWindows, MINUTE_MS, retryAfterSeconds } from './windows.js';

describe('limit windows', () => {
  const t = Date.UTC(2026, 11, 2, 13, 45, 20, 500);

  it('puts instants in minute and UTC day windows', () => {
    expect(limitWindows(t)).toEqual({ minute: Math.floor(t / MINUTE_MS), day: Math.floor(t / DAY_MS) });
    expect(limitWindows(Date.UTC(2026, 11, 2, 23, 59, 59, 999)).day).toBe(limitWindows(t).day);
    expect(limitWindows(Date.UTC(2026, 11, 3)).day).toBe(limitWindows(t).day + 1);
    expect(limitWindows(Date.UTC(2026, 11, 2, 13, 46)).minute).toBe(limitWindows(t).minute + 1);
  });

  it('answers Retry-After as the seconds left in the refusing window, at least 1', () => {
    expect(retryAfterSeconds('requestsPerMinute', t)).toBe(40); // 39.5 s left
    expect(retryAfterSeconds('tokensPerMinute', Date.UTC(2026, 11, 2, 13, 45))).toBe(60);
    expect(retryAfterSeconds('tokensPerMinute', Date.UTC(2026, 11, 2, 13, 45, 59, 999))).toBe(1);
    expect(retryAfterSeconds('usdPerDay', t)).toBe(Math.ceil((Date.UTC(2026, 11, 3) - t) / 1000));
    expect(retryAfterSeconds('concurrentRequests', t)).toBe(1); // no window: a slot frees when a call ends
  });

  it('maps limits to counter arguments, null without any', () => {
    expect(limitValues(undefined)).toBeNull();
    expect(limitValues(null)).toBeNull();
    expect(limitValues({})).toBeNull();
    expect(limitValues({ tokensPerMinute: 100 })).toEqual({ requestsPerMinute: 0, tokensPerMinute: 100, usdPerDay: 0, concurrentRequests: 0 });
    expect(limitValues({ concurrentRequests: 3 })).toEqual({ requestsPerMinute: 0, tokensPerMinute: 0, usdPerDay: 0, concurrentRequests: 3 });
  });

  it('charges only the amounts a key has a limit on', () => {
    expect(chargeFor(null, 10, 0.1)).toBeNull();
    expect(chargeFor({ requestsPerMinute: 5 }, 10, 0.1)).toBeNull();
    expect(chargeFor({ tokensPerMinute: 5 }, 10, 0.1)).toEqual({ tokens: 10, usd: 0 });
    expect(chargeFor({ usdPerDay: 1 }, 10, 0.1)).toEqual({ tokens: 0, usd: 0.1 });
    expect(chargeFor({ usdPerDay: 1, tokensPerMinute: 5 }, 0, null)).toBeNull();
  });
});
