import { biasOnlyContext, MIN_PROJECTED_DIM, PROJECTED_WEIGHT, projectEmbedding, projectionSeed, PROJECTION_VERSION } from './projection.js';

/** A test embedding from a small seeded LCG (values in (−1, 1)). */
function embedding(seed: number, n: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>, from = 0) => {
  let s = 0;
  for (let i = from; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const cosine = (a: ArrayLike<number>, b: ArrayLike<number>, from = 0) => dot(a, b, from) / Math.sqrt(dot(a, a, from) * dot(b, b, from));

describe('projectionSeed', () => {
  it('depends on the policy, the dim and the version only', () => {
    expect(projectionSeed('chat', 64)).toBe(projectionSeed('chat', 64, PROJECTION_VERSION));
    const seeds = new Set([
      projectionSeed('chat', 64),
      projectionSeed('chat2', 64),
      projectionSeed('chat', 65),
      projectionSeed('chat', 64, PROJECTION_VERSION + 1),
    ]);
    expect(seeds.size).toBe(4);
  });

  it('is a fixed function (the same in every process and release of this version)', () => {
    // FNV-1a 32 of "chat|64|v1": if this changes, every embeddings policy's space changed.
    expect(projectionSeed('chat', 64)).toBe(0xcbeb9e7c);
  });
});

describe('projectEmbedding', () => {
  const seed = projectionSeed('chat', 64);

  it('is deterministic, of the requested dimension and unit norm, with the bias in slot 0', () => {
    const e = embedding(1, 1536);
    const a = projectEmbedding(e, 64, seed);
    const b = projectEmbedding(Float64Array.from(e), 64, seed, new Float64Array(64).fill(7));
    expect(a).toBeInstanceOf(Float64Array);
    expect(a.length).toBe(64);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Math.hypot(...a)).toBeCloseTo(1, 12);
    expect(a[0]).toBeCloseTo(1 / Math.sqrt(1 + PROJECTED_WEIGHT ** 2), 12);
    expect(projectEmbedding(e, 2, seed).length).toBe(2);
    expect(projectEmbedding(e, 512, seed).length).toBe(512);
    expect(Math.hypot(...projectEmbedding(e, 512, seed))).toBeCloseTo(1, 12);
  });

  it('gives a fixed vector for a fixed input (the golden values pin the map)', () => {
    const x = projectEmbedding([1, -2, 0.5], 5, projectionSeed('golden', 5));
    // Checked against an independent implementation of the same map (the seed FNV-1a, rows and signs from fmix32).
    const golden = [0.7071067811865475, 0.14638501094227996, 0.19518001458970663, -0.19518001458970663, 0.6343350474165464];
    x.forEach((v, i) => expect(v).toBeCloseTo(golden[i], 14));
  });

  it('differs between seeds and keeps only the direction of the embedding', () => {
    const e = embedding(2, 768);
    const a = projectEmbedding(e, 64, seed);
    expect(Array.from(projectEmbedding(e, 64, projectionSeed('other', 64)))).not.toEqual(Array.from(a));
    const scaled = projectEmbedding(
      e.map((v) => v * 3.5),
      64,
      seed,
    );
    for (let i = 0; i < 64; i++) expect(scaled[i]).toBeCloseTo(a[i], 12);
  });

  it('does not depend on the embedding length beyond its values (trailing zeros change nothing)', () => {
    const e = embedding(3, 384);
    const padded = new Float64Array(1024);
    padded.set(e);
    expect(Array.from(projectEmbedding(padded, 48, seed))).toEqual(Array.from(projectEmbedding(e, 48, seed)));
  });

  it('maps a zero (or empty) embedding to the bias alone', () => {
    expect(Array.from(projectEmbedding(new Float64Array(16), 8, seed))).toEqual(Array.from(biasOnlyContext(8)));
    expect(Array.from(projectEmbedding([], 8, seed))).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('keeps angles between embeddings approximately (Johnson–Lindenstrauss)', () => {
    const d = 1536;
    const base = embedding(10, d);
    const errs: number[] = [];
    for (let t = 0; t < 20; t++) {
      const noise = embedding(100 + t, d);
      const mix = t / 20; // from identical to nearly unrelated
      const other = base.map((v, i) => (1 - mix) * v + mix * noise[i]);
      const want = cosine(base, other);
      const got = cosine(projectEmbedding(base, 257, seed), projectEmbedding(other, 257, seed), 1);
      errs.push(Math.abs(got - want));
    }
    // 256 projected slots: the cosine's error is of order 1/√256.
    expect(Math.max(...errs)).toBeLessThan(0.2);
    expect(errs.reduce((s, v) => s + v, 0) / errs.length).toBeLessThan(0.08);
  });

  it('refuses a dim without a projected slot, and an out of the wrong length', () => {
    expect(() => projectEmbedding([1], MIN_PROJECTED_DIM - 1, seed)).toThrow(RangeError);
    expect(() => projectEmbedding([1], 4, seed, new Float64Array(5))).toThrow(RangeError);
  });
});

describe('biasOnlyContext', () => {
  it('is (1, 0, …, 0), unit norm', () => {
    const x = biasOnlyContext(6);
    expect(Array.from(x)).toEqual([1, 0, 0, 0, 0, 0]);
  });
});
