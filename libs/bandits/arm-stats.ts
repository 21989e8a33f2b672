import { addOuter } from './linalg.js';
import { HEAD_COUNT, headIndex } from './objective.js';

const { round, sqrt } = Math;

/**
 * Additive sufficient statistics of one arm (ALGORITHMS.md §1, §11). Everything here is a plain sum, so shards,
 * replicas and micro-batches merge by addition in any order, and the ridge/prior terms are added once at
 * compile time, never stored.
 *
 * - `xx`: Σ x xᵀ over the arm's decisions (d×d row-major), added at decision time (§13).
 * - `xr`: per head h, Σ r_h x over the observations of that head (HEAD_COUNT×d).
 * - `pulls`: decisions; `obs[h]`: observations of head h; `sum[h]`: Σ r_h (for stats and normalisation).
 * - `xq`: Σ x xᵀ over the quality head's observations (d×d): the quality estimate is a ridge fit on the decisions
 *   whose feedback arrived, so that decisions without feedback (pending, or of a caller that never sends any) move
 *   only the exploration width, never the estimate (linear-model.ts).
 */
export interface ArmStats {
  xx: Float64Array;
  xr: Float64Array;
  pulls: number;
  obs: Float64Array;
  sum: Float64Array;
  xq: Float64Array;
}

export function emptyArmStats(d: number): ArmStats {
  return {
    xx: new Float64Array(d * d),
    xr: new Float64Array(HEAD_COUNT * d),
    pulls: 0,
    obs: new Float64Array(HEAD_COUNT),
    sum: new Float64Array(HEAD_COUNT),
    xq: new Float64Array(d * d),
  };
}

/** Whether two arms' statistics are the same, value for value. */
export function sameArmStats(a: ArmStats, b: ArmStats): boolean {
  return (
    a.pulls === b.pulls && sameValues(a.obs, b.obs) && sameValues(a.sum, b.sum) && sameValues(a.xr, b.xr) && sameValues(a.xx, b.xx) && sameValues(a.xq, b.xq)
  );
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** into += delta. */
export function addArmStats(into: ArmStats, delta: ArmStats): ArmStats {
  for (let i = 0; i < into.xx.length; i++) into.xx[i] += delta.xx[i];
  for (let i = 0; i < into.xr.length; i++) into.xr[i] += delta.xr[i];
  for (let i = 0; i < into.xq.length; i++) into.xq[i] += delta.xq[i];
  into.pulls += delta.pulls;
  for (let h = 0; h < HEAD_COUNT; h++) {
    into.obs[h] += delta.obs[h];
    into.sum[h] += delta.sum[h];
  }
  return into;
}

/** Records a decision for this arm with context x: A += x xᵀ, pulls += 1. */
export function recordDecision(s: ArmStats, x: ArrayLike<number>): void {
  addOuter(s.xx, x, x.length);
  s.pulls += 1;
}

/** Records an observation r of head h for a decision with context x: b_h += r x (and S_q += x xᵀ for quality). */
export function recordObservation(s: ArmStats, x: ArrayLike<number>, head: number, r: number): void {
  const d = x.length;
  const off = head * d;
  for (let i = 0; i < d; i++) s.xr[off + i] += r * x[i];
  if (head === headIndex.quality) addOuter(s.xq, x, d);
  s.obs[head] += 1;
  s.sum[head] += r;
}

/**
 * Replaces part of an earlier observation of head h without counting a new one: b_h += Δ x, Σ r_h += Δ (used when
 * a measured value supersedes a provisional estimate that was already learnt).
 */
export function recordCorrection(s: ArmStats, x: ArrayLike<number>, head: number, delta: number): void {
  const d = x.length;
  const off = head * d;
  for (let i = 0; i < d; i++) s.xr[off + i] += delta * x[i];
  s.sum[head] += delta;
}

/**
 * Flat float64 layout shared with Redis (little-endian blob) and Postgres rebuilds:
 * [pulls, obs×H, sum×H, xx (d²), xr (H·d), xq (d²)].
 */
export function armStatsLength(d: number): number {
  return legacyArmStatsLength(d) + d * d;
}

/** The layout before `xq` (kept readable: prior uploads were stored in it, every record with its score). */
const legacyArmStatsLength = (d: number): number => 1 + 2 * HEAD_COUNT + d * d + HEAD_COUNT * d;

/**
 * Whether `v` holds one arm's statistics at dimension d, in the current layout or (`legacy`) also the earlier one.
 * Only prior uploads may be in the earlier layout: live state is kept under keys of its layout, and a length of the
 * earlier layout at one d can be the current length at another (8 and 6, 56 and 40).
 */
export const isArmStatsBlob = (v: Float64Array, d: number, legacy = false): boolean =>
  v.length === armStatsLength(d) || (legacy && v.length === legacyArmStatsLength(d));

export function packArmStats(s: ArmStats, out?: Float64Array): Float64Array {
  const d = round(sqrt(s.xx.length));
  const v = out ?? new Float64Array(armStatsLength(d));
  const o = 1 + 2 * HEAD_COUNT;
  v[0] = s.pulls;
  v.set(s.obs, 1);
  v.set(s.sum, 1 + HEAD_COUNT);
  v.set(s.xx, o);
  v.set(s.xr, o + d * d);
  v.set(s.xq, o + d * d + HEAD_COUNT * d);
  return v;
}

/**
 * The statistics in `v`; with `legacy`, also in the earlier layout (a prior upload's, where every record carried its
 * score: S_q is S).
 */
export function unpackArmStats(v: Float64Array, d: number, legacy = false): ArmStats {
  if (!isArmStatsBlob(v, d, legacy)) throw new Error(`arm stats length ${v.length} does not match d=${d}`);
  const o = 1 + 2 * HEAD_COUNT;
  const tail = o + d * d + HEAD_COUNT * d;
  const xx = v.slice(o, o + d * d);
  return {
    pulls: v[0],
    obs: v.slice(1, 1 + HEAD_COUNT),
    sum: v.slice(1 + HEAD_COUNT, o),
    xx,
    xr: v.slice(o + d * d, tail),
    xq: v.length === armStatsLength(d) ? v.slice(tail, tail + d * d) : xx.slice(),
  };
}
