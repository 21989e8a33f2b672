const { imul } = Math;

/**
 * Seeded uniform generator in [0, 1): splitmix32 (the seeding step of libs/bandits `createRng`). The featurizer may
 * import no other lib (eslint `no-restricted-imports`), and fitting (fitted.ts) needs only uniforms, so it has this
 * small one: a seed reproduces a fit exactly, on any machine.
 */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}
