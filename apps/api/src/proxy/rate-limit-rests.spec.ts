import { DEFAULT_REST_MS, RateLimitRests } from './rate-limit-rests.js';

describe('RateLimitRests', () => {
  it('rests a model for the tenant whose call was limited, for the wait asked (or the default), keeping the longer', () => {
    const r = new RateLimitRests();
    expect(r.remainingMs('a', 't1', 0)).toBe(0);
    r.rest('a', 't1', 13_000, 0);
    r.rest('a', 't1', 2000, 1000);
    expect(r.remainingMs('a', 't1', 1000)).toBe(12_000);
    // Another tenant is not rested by it (the 429 may be the request's own).
    expect(r.remainingMs('a', 't2', 1000)).toBe(0);
    r.rest('b', 't1', undefined, 0);
    expect(r.remainingMs('b', 't1', 0)).toBe(DEFAULT_REST_MS);
    expect(r.remainingMs('a', 't1', 13_000)).toBe(0);
    expect(r.remainingMs('b', 't1', 500)).toBe(500);
  });

  it('drops expired entries once many tenants have rested models', () => {
    const r = new RateLimitRests();
    for (let i = 0; i < 10_000; i++) r.rest('m', `t${i}`, 1000, 0);
    r.rest('m', 'late', 1000, 5000);
    expect((r as unknown as { until: Map<string, number> }).until.size).toBe(1);
  });
});
