import { fnv1a } from './hash.js';

const { floor, imul, sqrt } = Math;

/**
 * Version of the embedding → context map. It is part of every projection's seed, so changing the map (this file)
 * changes every embeddings policy's feature space; bump it together with a reset of those policies.
 */
export const PROJECTION_VERSION = 1;

/**
 * L2 norm of the projected block against the bias of 1 before the whole vector is normalised: the embedding is
 * the whole description of the prompt (unlike the builtin's hashed block, which only refines its fixed slots), so
 * it weighs as much as the bias.
 */
export const PROJECTED_WEIGHT = 1;

/** Smallest `dim` of an embeddings context: the bias and at least one projected slot. */
export const MIN_PROJECTED_DIM = 2;

/**
 * The seed of a policy's projection: FNV-1a of `<policy>|<dim>|v<version>`. The same on every replica and in
 * every process; it depends on nothing learnt, so the projection never moves under the learning state.
 */
export function projectionSeed(policy: string, dim: number, version: number = PROJECTION_VERSION): number {
  const key = `${policy}|${dim}|v${version}`;
  return fnv1a(key, 0, key.length);
}

/** murmur3's 32-bit finaliser: a bijective mix of all 32 bits. */
function fmix32(h: number): number {
  h = imul(h ^ (h >>> 16), 0x85ebca6b);
  h = imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Non-zero entries per column of the projection matrix (Kane & Nelson 2014, "Sparser Johnson–Lindenstrauss
 * Transforms", s): a dense ±1 matrix would cost D·dim operations (15 ms for D = 3072, dim = 512 on this machine),
 * the sparse one D·s.
 */
export const PROJECTION_NONZEROS = 8;

/**
 * Fixed, seeded random projection of an embedding (any length D) to a context of length `dim`, the same on every
 * replica for the same seed (see {@link projectionSeed}):
 *
 * - slot 0: the bias, 1;
 * - slots 1…dim−1: y = R·e with R a sparse random sign matrix of k = dim−1 rows: column j has
 *   {@link PROJECTION_NONZEROS} entries ±1 at rows drawn uniformly (with replacement) from its own stream, seeded by
 *   (seed, j) (a sparse Johnson–Lindenstrauss transform: Dasgupta, Kumar & Sarlós 2010; Kane & Nelson 2014). y is
 *   scaled to norm {@link PROJECTED_WEIGHT}; a zero projection (a zero embedding) leaves the block at 0;
 * - then the whole vector is scaled to unit norm, like the builtin featurizer's, so an untried LinUCB arm's width
 *   is exactly 1/√λ.
 *
 * Only the direction of the embedding matters (its scale is normalised away), and angles between embeddings are
 * kept approximately (E⟨Re, Rf⟩ = s⟨e, f⟩), so prompts the embedding model finds alike get alike contexts. R does
 * not depend on D (a longer embedding only adds columns), its entries are never stored, and a zero entry of `e`
 * costs nothing: O(D·s) per call, about 0.1 ms for D = 3072.
 *
 * `embedding` must hold finite numbers (the caller validates what an upstream sent). `out` may be passed to avoid
 * allocation.
 */
export function projectEmbedding(embedding: ArrayLike<number>, dim: number, seed: number, out: Float64Array = new Float64Array(dim)): Float64Array {
  if (!Number.isInteger(dim) || dim < MIN_PROJECTED_DIM) throw new RangeError(`dim must be an integer of at least ${MIN_PROJECTED_DIM}`);
  if (out.length !== dim) throw new RangeError(`out has length ${out.length}, expected ${dim}`);
  out.fill(0);
  const k = dim - 1;
  for (let j = 0; j < embedding.length; j++) {
    const v = embedding[j];
    if (v === 0) continue;
    // splitmix32 stream of column j: one word per non-zero entry, its top 31 bits pick the row, its low bit the sign.
    let s = fmix32((seed ^ imul(j + 1, 0x9e3779b9)) >>> 0);
    for (let t = 0; t < PROJECTION_NONZEROS; t++) {
      s = (s + 0x9e3779b9) >>> 0;
      const word = fmix32(s);
      const row = floor(((word >>> 1) * k) / 2147483648);
      out[1 + row] += word & 1 ? v : -v;
    }
  }
  let norm2 = 0;
  for (let i = 1; i < dim; i++) norm2 += out[i] * out[i];
  const blockScale = norm2 > 0 && Number.isFinite(norm2) ? PROJECTED_WEIGHT / sqrt(norm2) : 0;
  if (blockScale === 0) out.fill(0, 1);
  else for (let i = 1; i < dim; i++) out[i] *= blockScale;
  out[0] = 1;
  const total = 1 / sqrt(1 + (blockScale > 0 ? PROJECTED_WEIGHT * PROJECTED_WEIGHT : 0));
  for (let i = 0; i < dim; i++) out[i] *= total;
  return out;
}

/** The context of a request whose embedding is unavailable: the bias alone, (1, 0, …, 0). */
export function biasOnlyContext(dim: number): Float64Array {
  const x = new Float64Array(dim);
  x[0] = 1;
  return x;
}
