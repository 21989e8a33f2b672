import { RandomIds } from './random-ids.js';

describe('RandomIds', () => {
  it('draws 120 random bits per id: unique, fixed shape, and no id says anything about the next', () => {
    const ids = new RandomIds('dec_');
    const drawn = Array.from({ length: 5000 }, () => ids.id());
    expect(new Set(drawn).size).toBe(drawn.length);
    expect(drawn.every((id) => /^dec_[A-Za-z0-9_-]{20}$/.test(id))).toBe(true);
    // Consecutive ids share no more prefix than chance allows (a counter would share all but the last chars).
    const shared = drawn.slice(1).map((id, i) => {
      let n = 4;
      while (id[n] === drawn[i][n]) n++;
      return n - 4;
    });
    expect(Math.max(...shared)).toBeLessThan(5);
    // Each of the 64 symbols appears at the first random position (the pool is refilled across 512-id blocks).
    expect(new Set(drawn.map((id) => id[4])).size).toBe(64);
  });

  it('puts its prefix before the random part', () => {
    const id = new RandomIds('ev_').id();
    expect(id).toMatch(/^ev_[A-Za-z0-9_-]{20}$/);
  });
});
