import { kmeans, nearest } from './kmeans.js';
import { seededUniform } from './prng.js';

/** n points around each of the given centres (seeded jitter of ±0.1). */
function blobs(centres: number[][], n: number, seed: number): Float64Array {
  const u = seededUniform(seed);
  const m = centres[0].length;
  const out = new Float64Array(centres.length * n * m);
  let k = 0;
  for (let i = 0; i < n; i++) for (const c of centres) for (let j = 0; j < m; j++) out[k++] = c[j] + 0.2 * (u() - 0.5);
  return out;
}

describe('k-means', () => {
  const centres = [
    [0, 0],
    [5, 5],
    [0, 5],
  ];
  const points = blobs(centres, 50, 3);

  it('finds well-separated clusters (every blob one cluster, centres within the jitter)', () => {
    const km = kmeans(points, 150, 2, 3, seededUniform(1));
    for (const c of centres) {
      const at = nearest(km.centroids, 3, Float64Array.from(c), 0, 2);
      expect(Math.hypot(km.centroids[at * 2] - c[0], km.centroids[at * 2 + 1] - c[1])).toBeLessThan(0.1);
    }
    for (let i = 0; i < 150; i++) expect(km.assignment[i]).toBe(km.assignment[i % 3]); // points cycle through the blobs
    expect(km.inertia / 150).toBeLessThan(0.01);
  });

  it('is deterministic for a seed and point order', () => {
    const a = kmeans(points, 150, 2, 3, seededUniform(7));
    const b = kmeans(points, 150, 2, 3, seededUniform(7));
    expect(a).toEqual(b);
  });

  it('copes with fewer distinct points than clusters, and refuses k outside 1…n', () => {
    const same = new Float64Array(10).fill(1); // five copies of (1, 1)
    const km = kmeans(same, 5, 2, 3, seededUniform(1));
    expect(km.inertia).toBe(0);
    expect(Array.from(km.centroids)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(() => kmeans(same, 5, 2, 6, seededUniform(1))).toThrow(RangeError);
    expect(() => kmeans(same, 5, 2, 0, seededUniform(1))).toThrow(RangeError);
  });

  it('draws uniforms in [0, 1), the same from the same seed', () => {
    const u = seededUniform(42);
    const v = seededUniform(42);
    const draws = Array.from({ length: 10_000 }, () => u());
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(draws.reduce((s, x) => s + x, 0) / draws.length - 0.5)).toBeLessThan(0.02);
    expect(Array.from({ length: 10_000 }, () => v())).toEqual(draws);
  });
});
