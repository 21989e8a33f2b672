import { DEFAULT_REST_MS, RateLimitRests } from './rate-limit-rests.js';

describe('RateLimitRests', () => {
  it('rests a model for the wait asked (or the default), keeps the longer of two, and forgets it after', () => {
    const r = new RateLimitRests();
    expect(r.remainingMs('a', 0)).toBe(0);
    r.rest('a', 13_000, 0);
    r.rest('a', 2000, 1000);
    expect(r.remainingMs('a', 1000)).toBe(12_000);
    r.rest('b', undefined, 0);
    expect(r.remainingMs('b', 0)).toBe(DEFAULT_REST_MS);
    expect(r.remainingMs('a', 13_000)).toBe(0);
    expect(r.remainingMs('b', 500)).toBe(500);
  });
});
