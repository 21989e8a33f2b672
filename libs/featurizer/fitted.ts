import { FEATURIZER_VERSION, fixedFeatures, HASHED_WEIGHT, MIN_DIM, normalize } from './featurize.js';
import { fnv1a } from './hash.js';
import { hashNgrams } from './hashed.js';
import { kmeans } from './kmeans.js';
import { seededUniform } from './prng.js';
import { FIXED_FEATURES } from './slots.js';

const { exp, max } = Math;

/**
 * A fitted projection of the built-in features: k-means centroids of the fixed slots (slots.ts, bias left out) of a
 * sample of prompts, seeded k-means++ (kmeans.ts). {@link featurizeFitted} adds to the fixed slots each prompt's
 * membership of the clusters, so a linear policy can learn one value per kind of prompt seen in the policy's own
 * traffic (a lookup table over clusters) as well as the slots' linear trends.
 *
 * Plain JSON data (numbers survive a JSON round trip exactly), so a policy can store it and every replica apply
 * the same one.
 */
export interface FeaturizerFit {
  /** Format of this object: {@link FIT_FORMAT}. */
  format: number;
  /** `FEATURIZER_VERSION` of the fixed slots the centroids live in; a fit made under another one does not apply. */
  featurizer: number;
  /** Context dimension the fit is for: {@link featurizeFitted}'s default `dim`. */
  dim: number;
  /** Clusters, 1…{@link MAX_CLUSTERS}. */
  k: number;
  seed: number;
  /** 'soft': softmax of −(squared distance)/temperature; 'hard': one-hot of the nearest centroid. */
  membership: FitMembership;
  /** The training prompts' mean squared distance to their nearest centroid: the softmax's scale. */
  temperature: number;
  /** Number of prompts the fit was made from. */
  prompts: number;
  /** k rows of FIXED_FEATURES − 1 numbers: the centroids in fixed slots 1… . */
  centroids: number[][];
  /** {@link fitHash} of the other fields: names the fit (replicas holding the same fit hold the same hash). */
  hash: string;
}

export type FitMembership = 'soft' | 'hard';

export interface FitOptions {
  /** Default 'soft'. */
  membership?: FitMembership;
  /** Lloyd iterations at most (default 100). */
  maxIterations?: number;
}

/** Version of the {@link FeaturizerFit} format. */
export const FIT_FORMAT = 1;
/** Most clusters a fit may have: bounds the per-request cost (k distances over 24 coordinates) and the slots used. */
export const MAX_CLUSTERS = 64;
/** Coordinates of a centroid: the fixed slots without the bias. */
const COORDS = FIXED_FEATURES - 1;

/**
 * Fits centroids to `prompts` (at least `k` of them): each prompt's fixed slots (as `featurize` computes
 * them, before normalisation), clustered by k-means with k-means++ seeding from `seed`. Deterministic for a given
 * seed and prompt order. `dim` is the context dimension the fit is for: at least `FIXED_FEATURES + k` (the fixed
 * slots and the memberships; what is left holds hashed n-grams) and at least `MIN_DIM`.
 *
 * Cost: one featurization per prompt, then O(n·k·24) per Lloyd iteration.
 */
export function fitFeaturizer(prompts: readonly string[], dim: number, k: number, seed: number, options: FitOptions = {}): FeaturizerFit {
  if (!Number.isInteger(k) || k < 1 || k > MAX_CLUSTERS) throw new RangeError(`k must be an integer in 1…${MAX_CLUSTERS}`);
  if (!Number.isInteger(dim) || dim < minFittedDim(k)) throw new RangeError(`dim must be an integer ≥ ${minFittedDim(k)} for k = ${k}`);
  if (prompts.length < k) throw new RangeError(`need at least k = ${k} prompts, got ${prompts.length}`);
  if (!Number.isInteger(seed)) throw new RangeError('seed must be an integer');
  const n = prompts.length;
  const points = new Float64Array(n * COORDS);
  const slots = new Float64Array(FIXED_FEATURES);
  for (let i = 0; i < n; i++) {
    fixedFeatures(prompts[i], slots);
    points.set(slots.subarray(1), i * COORDS);
  }
  const km = kmeans(points, n, COORDS, k, seededUniform(seed), options.maxIterations ?? 100);
  const centroids = Array.from({ length: k }, (_, c) => Array.from(km.centroids.subarray(c * COORDS, (c + 1) * COORDS)));
  const fields: Omit<FeaturizerFit, 'hash'> = {
    format: FIT_FORMAT,
    featurizer: FEATURIZER_VERSION,
    dim,
    k,
    seed,
    membership: options.membership ?? 'soft',
    temperature: km.inertia / n,
    prompts: n,
    centroids,
  };
  return { ...fields, hash: fitHash(fields) };
}

/** Smallest context dimension for a fit of k clusters. */
export const minFittedDim = (k: number): number => max(MIN_DIM, FIXED_FEATURES + k);

/** Identity of a fit: FNV-1a (two seeds, 16 hex digits) of its fields other than `hash`, in a fixed order. */
export function fitHash(f: Omit<FeaturizerFit, 'hash'>): string {
  const s = JSON.stringify([f.format, f.featurizer, f.dim, f.k, f.seed, f.membership, f.temperature, f.prompts, f.centroids]);
  const hex = (h: number) => h.toString(16).padStart(8, '0');
  return hex(fnv1a(s, 0, s.length)) + hex(fnv1a(s, 0, s.length, 0x01000193));
}

/**
 * Checks that `value` is a fit {@link featurizeFitted} can apply (for a policy installing one, e.g. read back from
 * storage): the format and featurizer versions, the shape, finite numbers and the hash. Returns it typed; throws a
 * RangeError naming the first problem.
 */
export function checkFit(value: unknown): FeaturizerFit {
  const f = value as Partial<FeaturizerFit> | null;
  const bad = (why: string): never => {
    throw new RangeError(`featurizer fit: ${why}`);
  };
  if (typeof f !== 'object' || f === null) return bad('not an object');
  if (f.format !== FIT_FORMAT) bad(`format ${String(f.format)}, expected ${FIT_FORMAT}`);
  if (f.featurizer !== FEATURIZER_VERSION) bad(`made for featurizer version ${String(f.featurizer)}, this is ${FEATURIZER_VERSION}`);
  const k = f.k;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > MAX_CLUSTERS) return bad(`k must be an integer in 1…${MAX_CLUSTERS}`);
  if (typeof f.dim !== 'number' || !Number.isInteger(f.dim) || f.dim < minFittedDim(k)) bad(`dim must be an integer ≥ ${minFittedDim(k)}`);
  if (typeof f.seed !== 'number' || !Number.isInteger(f.seed)) bad('seed must be an integer');
  if (f.membership !== 'soft' && f.membership !== 'hard') bad('membership must be soft or hard');
  if (typeof f.temperature !== 'number' || !Number.isFinite(f.temperature) || f.temperature < 0) bad('temperature must be finite and ≥ 0');
  if (typeof f.prompts !== 'number' || !Number.isInteger(f.prompts) || f.prompts < k) bad('prompts must be an integer ≥ k');
  const rows = f.centroids;
  if (!Array.isArray(rows) || rows.length !== k) return bad(`centroids must be ${k} rows`);
  for (const row of rows)
    if (!Array.isArray(row) || row.length !== COORDS || !row.every((v) => typeof v === 'number' && Number.isFinite(v)))
      bad(`each centroid must be ${COORDS} finite numbers`);
  if (f.hash !== fitHash(f as FeaturizerFit)) bad('hash does not match the fields');
  return f as FeaturizerFit;
}

const SLOTS_SCRATCH = new Float64Array(FIXED_FEATURES);
const DIST_SCRATCH = new Float64Array(MAX_CLUSTERS);

/** Squared distances from the fixed slots `x` (bias at 0) to each centroid, into `dist[0…k)`; returns the nearest (lowest index on ties). */
function distances(fit: FeaturizerFit, x: Float64Array, dist: Float64Array): number {
  let best = 0;
  for (let c = 0; c < fit.k; c++) {
    const row = fit.centroids[c];
    let s = 0;
    for (let j = 0; j < COORDS; j++) {
      const d = x[1 + j] - row[j];
      s += d * d;
    }
    dist[c] = s;
    if (s < dist[best]) best = c;
  }
  return best;
}

/** Index of the cluster of `input` (nearest centroid), e.g. to report per-cluster statistics. */
export function nearestCluster(fit: FeaturizerFit, input: string): number {
  fixedFeatures(input, SLOTS_SCRATCH);
  return distances(fit, SLOTS_SCRATCH, DIST_SCRATCH);
}

/**
 * Context vector of `input` under a fit, of length `dim` (default `fit.dim`, at least `FIXED_FEATURES + k`):
 *
 * - slots 0…FIXED_FEATURES−1: the fixed slots, as in `featurize` (bias first);
 * - the next k slots: the membership of each cluster, summing to 1: soft, `exp(−(d_c − d_min)/temperature)`
 *   normalised, with `d_c` the squared distance to centroid c; hard (or temperature 0), one-hot of the nearest;
 * - the rest: hashed n-grams at `HASHED_WEIGHT`, as in `featurize`.
 *
 * Then scaled to unit norm (slot 0 stays the bias of a unit vector). Deterministic; cost that of `featurize`
 * plus k ≤ 64 distances over 24 coordinates. The fit is trusted: pass it through {@link checkFit} when installing it.
 */
export function featurizeFitted(fit: FeaturizerFit, input: string, dim = fit.dim, out: Float64Array = new Float64Array(dim)): Float64Array {
  const k = fit.k;
  if (dim < minFittedDim(k)) throw new RangeError(`dim must be at least ${minFittedDim(k)} for a fit of ${k} clusters`);
  out.fill(0);
  const text = fixedFeatures(input, out);
  const best = distances(fit, out, DIST_SCRATCH);
  const member = FIXED_FEATURES;
  if (fit.membership === 'hard' || !(fit.temperature > 0)) out[member + best] = 1;
  else {
    const dMin = DIST_SCRATCH[best];
    let total = 0;
    for (let c = 0; c < k; c++) {
      const w = exp(-(DIST_SCRATCH[c] - dMin) / fit.temperature);
      out[member + c] = w;
      total += w;
    }
    for (let c = 0; c < k; c++) out[member + c] /= total;
  }
  hashNgrams(text, out, member + k, dim, HASHED_WEIGHT);
  return normalize(out);
}
