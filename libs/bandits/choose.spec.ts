import { epsilonArgmax } from './choose.js';
import { createRng } from './prng.js';

describe('ε-mixed argmax', () => {
  it('logs the true probability of the returned candidate', () => {
    const rng = createRng(5);
    const scores = [0.1, 0.9, 0.9, 0.2];
    const counts = [0, 0, 0, 0];
    const logged = [0, 0, 0, 0];
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const c = epsilonArgmax(scores, 4, 0.1, rng);
      counts[c.pick]++;
      logged[c.pick] = c.propensity;
    }
    for (let a = 0; a < 4; a++) expect(Math.abs(counts[a] / n - logged[a])).toBeLessThan(0.005);
    expect(logged[1]).toBeCloseTo(0.45 + 0.025, 12);
    expect(logged[0]).toBeCloseTo(0.025, 12);
  });
});
