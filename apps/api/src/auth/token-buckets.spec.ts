import { TokenBuckets } from './token-buckets.js';

describe('TokenBuckets', () => {
  it('allows a burst, then the sustained rate, per client', () => {
    const b = new TokenBuckets({ ratePerSecond: 10, burst: 5, maxClients: 100 });
    const t0 = 1_000_000;
    const burst = Array.from({ length: 8 }, () => b.take('a', t0));
    expect(burst.filter(Boolean)).toHaveLength(5);
    expect(b.take('b', t0)).toBe(true); // another client has its own bucket
    expect(b.take('a', t0 + 50)).toBe(false); // half a token back
    expect(b.take('a', t0 + 100)).toBe(true); // one token back after 100 ms at 10/s
    // Over 10 s of constant pressure: burst + rate × time at most.
    let granted = 0;
    for (let t = t0 + 100; t <= t0 + 10_100; t += 1) if (b.take('a', t)) granted++;
    expect(granted).toBeGreaterThanOrEqual(99);
    expect(granted).toBeLessThanOrEqual(101);
  });

  it('tells when to retry (at least 1 s) and refills no further than the burst', () => {
    const b = new TokenBuckets({ ratePerSecond: 0.5, burst: 2, maxClients: 10 });
    expect([b.take('a', 0), b.take('a', 0), b.take('a', 0)]).toEqual([true, true, false]);
    expect(b.retryAfterSeconds('a', 0)).toBe(2);
    expect(b.retryAfterSeconds('a', 1500)).toBe(1);
    const after = Array.from({ length: 4 }, () => b.take('a', 3_600_000));
    expect(after).toEqual([true, true, false, false]);
  });

  it('remembers at most maxClients (memory stays bounded under rotating clients)', () => {
    const b = new TokenBuckets({ ratePerSecond: 1, burst: 1, maxClients: 2 });
    expect(b.take('a', 0)).toBe(true);
    expect(b.take('a', 0)).toBe(false);
    b.take('b', 0);
    b.take('c', 0); // forgets a
    expect(b.take('a', 0)).toBe(true);
  });
});
