import { idFraction, inPriorPart, splitForPrior } from './prior-split.js';

describe('prior split by record id', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `rec:${i}`);

  it('maps an id to [0, 1) by the first 48 bits of its SHA-256, the same in every run (no seed)', () => {
    // Pinned: the same number as Python's int.from_bytes(sha256(id)[:6], 'big') / 2**48.
    expect(idFraction('rl:mmlu:abstract_algebra:0')).toBe(0.11330297542421164);
    for (const id of ids.slice(0, 100)) {
      const f = idFraction(id);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
      expect(idFraction(id)).toBe(f);
    }
  });

  it('puts close to the fraction F of the records in the prior part and the rest in the replay part', () => {
    for (const F of [0.1, 0.5, 0.8]) {
      const { prior, replay } = splitForPrior(
        ids.map((id) => ({ id })),
        F,
      );
      expect(prior.length + replay.length).toBe(ids.length);
      // Binomial sd at n = 20,000 is at most 0.0036: 4 sd.
      expect(Math.abs(prior.length / ids.length - F)).toBeLessThan(0.015);
      expect(prior.every((r) => inPriorPart(r.id, F))).toBe(true);
      expect(replay.some((r) => inPriorPart(r.id, F))).toBe(false);
    }
  });

  it('is monotone in F (a larger split keeps every record of a smaller one) and keeps the order', () => {
    const small = splitForPrior(
      ids.map((id) => ({ id })),
      0.3,
    ).prior.map((r) => r.id);
    const large = new Set(
      splitForPrior(
        ids.map((id) => ({ id })),
        0.6,
      ).prior.map((r) => r.id),
    );
    expect(small.every((id) => large.has(id))).toBe(true);
    expect(small).toEqual([...small].sort((a, b) => ids.indexOf(a) - ids.indexOf(b)));
  });
});
