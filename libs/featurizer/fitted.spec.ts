import {
  checkFit,
  featurize,
  featurizeFitted,
  FIXED_FEATURES,
  fitFeaturizer,
  fitHash,
  MAX_CLUSTERS,
  MIN_DIM,
  nearestCluster,
  type FeaturizerFit,
} from '@app/featurizer';
import { bestTimeMs, HOSTILE_TEXTS, PLAIN_TEXT } from './testing/hostile-text.js';

/** Prompts of three kinds, twelve of each, in a fixed interleaved order. */
const KINDS = {
  code: (i: number) => `def f${i}(x):\n    """Return x plus ${i}."""\n    return x + ${i}\n`,
  chineseExam: (i: number) => `下列关于细胞的说法正确的是（）\nA. ${i}\nB. 甲\nC. 乙\nD. 丙\n答案：`,
  prose: (i: number) => `Tell me about the history of the old town hall number ${i} and its church.`,
};
const PROMPTS = Array.from({ length: 12 }, (_, i) => Object.values(KINDS).map((k) => k(i))).flat();

describe('fitted projection', () => {
  const fit = fitFeaturizer(PROMPTS, 64, 3, 11);

  it('is plain JSON data of the documented shape, and survives a JSON round trip', () => {
    expect(fit).toMatchObject({ format: 1, dim: 64, k: 3, seed: 11, membership: 'soft', prompts: PROMPTS.length });
    expect(fit.centroids).toHaveLength(3);
    for (const row of fit.centroids) expect(row).toHaveLength(FIXED_FEATURES - 1);
    expect(fit.temperature).toBeGreaterThanOrEqual(0);
    expect(fit.hash).toMatch(/^[0-9a-f]{16}$/);
    const back = checkFit(JSON.parse(JSON.stringify(fit)));
    expect(back).toEqual(fit);
    expect(featurizeFitted(back, PROMPTS[0])).toEqual(featurizeFitted(fit, PROMPTS[0]));
  });

  it('is deterministic for a seed and prompt order', () => {
    expect(fitFeaturizer(PROMPTS, 64, 3, 11)).toEqual(fit);
    expect(fitFeaturizer(PROMPTS, 64, 3, 11, { membership: 'hard' }).centroids).toEqual(fit.centroids);
    expect(fitFeaturizer(PROMPTS, 64, 3, 12).seed).toBe(12);
  });

  it('puts each kind of prompt in a cluster of its own', () => {
    const clusterOf = Object.fromEntries(
      Object.entries(KINDS).map(([name, make]) => [name, new Set(Array.from({ length: 12 }, (_, i) => nearestCluster(fit, make(i))))]),
    );
    for (const c of Object.values(clusterOf)) expect(c.size).toBe(1);
    expect(new Set(Object.values(clusterOf).map((c) => [...c][0])).size).toBe(3);
  });

  it('gives a unit vector: the fixed slots of featurize, then memberships summing to 1, then hashed n-grams', () => {
    for (const dim of [64, 32, 512]) {
      const x = featurizeFitted(fit, PROMPTS[4], dim);
      expect(x.length).toBe(dim);
      expect(Math.hypot(...x)).toBeCloseTo(1, 12);
    }
    const x = featurizeFitted(fit, PROMPTS[4], 64);
    const base = featurize(PROMPTS[4], 64);
    for (let i = 1; i < FIXED_FEATURES; i++) expect(x[i] / x[0]).toBeCloseTo(base[i] / base[0], 12);
    const member = Array.from(x.subarray(FIXED_FEATURES, FIXED_FEATURES + 3)).map((v) => v / x[0]);
    expect(member.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(Math.max(...member)).toBe(member[nearestCluster(fit, PROMPTS[4])]);
    expect(x.subarray(FIXED_FEATURES + 3).some((v) => v !== 0)).toBe(true);
    // With exactly the fixed slots and the memberships there is no hashed block.
    const wide = fitFeaturizer(PROMPTS, 32, 7, 11);
    const y = featurizeFitted(wide, PROMPTS[4], FIXED_FEATURES + 7);
    expect(y.length).toBe(32);
    expect(Math.hypot(...y)).toBeCloseTo(1, 12);
  });

  it('hard membership is one-hot of the nearest centroid', () => {
    const hard = fitFeaturizer(PROMPTS, 64, 3, 11, { membership: 'hard' });
    for (const p of PROMPTS.slice(0, 6)) {
      const x = featurizeFitted(hard, p);
      const member = Array.from(x.subarray(FIXED_FEATURES, FIXED_FEATURES + 3)).map((v) => v / x[0]);
      const one = nearestCluster(hard, p);
      expect(member).toEqual([0, 1, 2].map((c) => (c === one ? 1 : 0)));
    }
  });

  it('refuses what it cannot apply: bad k, dim or prompts; a fit that is tampered with or made for another featurizer', () => {
    expect(() => fitFeaturizer(PROMPTS, 64, 0, 1)).toThrow(RangeError);
    expect(() => fitFeaturizer(PROMPTS, 128, MAX_CLUSTERS + 1, 1)).toThrow(RangeError);
    expect(() => fitFeaturizer(PROMPTS, FIXED_FEATURES + 2, 3, 1)).toThrow(RangeError); // below MIN_DIM
    expect(() => fitFeaturizer(PROMPTS.slice(0, 2), 64, 3, 1)).toThrow(RangeError);
    expect(() => featurizeFitted(fit, 'x', FIXED_FEATURES + 2)).toThrow(RangeError);
    const tampered: FeaturizerFit = JSON.parse(JSON.stringify(fit));
    tampered.centroids[0][0] += 1e-9;
    expect(() => checkFit(tampered)).toThrow(/hash/);
    const other = { ...fit, featurizer: fit.featurizer + 1 };
    expect(() => checkFit({ ...other, hash: fitHash(other) })).toThrow(/featurizer version/);
    expect(() => checkFit({ ...fit, centroids: fit.centroids.slice(1) })).toThrow(/centroids/);
    expect(() => checkFit(null)).toThrow(/object/);
    expect(MIN_DIM).toBe(32);
  });

  it('costs what featurize costs plus 64 distances: hostile 1 MB texts within 200 ms and 20x plain text', () => {
    const big = fitFeaturizer(
      Array.from({ length: 200 }, (_, i) => `${PROMPTS[i % PROMPTS.length]} ${i}`),
      128,
      MAX_CLUSTERS,
      5,
    );
    for (let i = 0; i < 3; i++) featurizeFitted(big, PLAIN_TEXT);
    const plain = bestTimeMs((t) => featurizeFitted(big, t), PLAIN_TEXT);
    const slow: string[] = [];
    for (const [name, text] of Object.entries(HOSTILE_TEXTS)) {
      const ms = bestTimeMs((t) => featurizeFitted(big, t), text);
      if (ms > 200 || ms > 20 * Math.max(plain, 1)) slow.push(`${name}: ${ms.toFixed(1)} ms (plain text: ${plain.toFixed(1)} ms)`);
    }
    expect(slow).toEqual([]);
  });
});
