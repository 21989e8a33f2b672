const { PI, cos, floor, imul, log, sqrt } = Math;
/**
 * Seeded pseudo-random generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator) seeded through
 * splitmix32. Every algorithm takes an `Rng` as a parameter; nothing in the learning core reads the global random source,
 * so a seed reproduces a replay or a test exactly.
 */
export interface Rng {
  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number;
  /** Standard normal draw (Box–Muller, one value per call). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Creates a generator from any 32-bit integer seed. */
export function createRng(seed: number): Rng {
  const init = splitmix32(seed);
  let a = init(),
    b = init(),
    c = init(),
    d = init();
  const u32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) u32();
  const next = (): number => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992;
  return {
    next,
    normal: () => {
      let u = next();
      while (u === 0) u = next();
      return sqrt(-2 * log(u)) * cos(2 * PI * next());
    },
    int: (n) => floor(next() * n),
  };
}
