import { armStatsLength, createRng } from '@app/bandits';
import { fitPrior, type PriorObservation } from './prior-fit.js';
import { refitPrior } from './prior-uploads.js';

const d = 8;
function observations(n: number, k: number, seed: number): PriorObservation[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const x = Float64Array.from({ length: d }, () => rng.next() * 2 - 1);
    return { arm: rng.int(k), x, r: rng.next() };
  });
}

describe('refitPrior (prior uploads that add up)', () => {
  const arms = ['a', 'b', 'c'];
  const obs = observations(500, 2, 3); // arm c never seen: it gets the others' mean with weight 0

  it('gives, bit for bit, the one-pass fit when the observations come in several appended chunks', () => {
    const once = fitPrior(arms.length, d, obs, 100);
    let stored: ReadonlyMap<string, Float64Array> = new Map();
    let fitted = once;
    for (const [from, to] of [
      [0, 1],
      [1, 170],
      [170, 171],
      [171, 500],
    ]) {
      const r = refitPrior(arms, d, stored, obs.slice(from, to), 100);
      stored = r.stats;
      fitted = r.fitted;
    }
    expect(fitted).toEqual(once);
    expect(fitted[2]).toMatchObject({ weight: 0, records: 0 });
    expect([...stored.keys()]).toEqual(['a', 'b']);
    for (const v of stored.values()) expect(v.length).toBe(armStatsLength(d));
  });

  it('starts afresh from nothing stored, and drops stored statistics of arms gone or of another dimension', () => {
    const first = refitPrior(arms, d, new Map(), obs, 50);
    expect(first.fitted).toEqual(fitPrior(arms.length, d, obs, 50));
    const stale = new Map([...first.stats, ['gone', first.stats.get('a')!], ['c', new Float64Array(armStatsLength(d + 1))]]);
    const later = obs.slice(0, 10).map((o) => ({ ...o, arm: 2 }));
    const r = refitPrior(arms, d, stale, later, 50);
    expect(r.stats.has('gone')).toBe(false);
    expect(r.fitted[2]).toEqual(fitPrior(arms.length, d, later, 50)[2]);
    expect(r.fitted[0]).toEqual(first.fitted[0]);
  });

  it('caps the weight at the call’s maxWeight over all records so far', () => {
    const a = refitPrior(arms, d, new Map(), obs.slice(0, 100), 200);
    const b = refitPrior(arms, d, a.stats, obs.slice(100), 200);
    const n0 = obs.filter((o) => o.arm === 0).length;
    expect(b.fitted[0]).toMatchObject({ weight: Math.min(200, n0), records: n0 });
  });
});
