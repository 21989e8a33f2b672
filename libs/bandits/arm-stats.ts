import { HEAD_COUNT } from './objective.js';

/**
 * Additive sufficient statistics of one arm (ALGORITHMS.md §1, §11). Everything here is a plain sum, so shards,
 * replicas and micro-batches merge by addition in any order, and the ridge/prior terms are added once at
 * compile time, never stored.
 *
 * - `xx`: Σ x xᵀ over the arm's decisions (d×d row-major), added at decision time (§13).
 * - `xr`: per head h, Σ r_h x over the observations of that head (HEAD_COUNT×d).
 * - `pulls`: decisions; `obs[h]`: observations of head h; `sum[h]`: Σ r_h (for stats and normalisation).
 * - `xs`: Σ x over the arm's decisions; `xo`: per head h, Σ x over the observations of that head (HEAD_COUNT×d).
 *   Together they say where in the context space values arrive (the local missing-feedback factor,
 *   linear-model.ts), so that decisions without feedback in one region leave the estimates elsewhere as they are.
 */
export interface ArmStats {
  xx: Float64Array;
  xr: Float64Array;
  pulls: number;
  obs: Float64Array;
  sum: Float64Array;
  xs: Float64Array;
  xo: Float64Array;
}

export function emptyArmStats(d: number): ArmStats {
  return {
    xx: new Float64Array(d * d),
    xr: new Float64Array(HEAD_COUNT * d),
    pulls: 0,
    obs: new Float64Array(HEAD_COUNT),
    sum: new Float64Array(HEAD_COUNT),
    xs: new Float64Array(d),
    xo: new Float64Array(HEAD_COUNT * d),
  };
}

/** Whether two arms' statistics are the same, value for value. */
export function sameArmStats(a: ArmStats, b: ArmStats): boolean {
  return (
    a.pulls === b.pulls &&
    sameValues(a.obs, b.obs) &&
    sameValues(a.sum, b.sum) &&
    sameValues(a.xr, b.xr) &&
    sameValues(a.xs, b.xs) &&
    sameValues(a.xo, b.xo) &&
    sameValues(a.xx, b.xx)
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
  for (let i = 0; i < into.xs.length; i++) into.xs[i] += delta.xs[i];
  for (let i = 0; i < into.xo.length; i++) into.xo[i] += delta.xo[i];
  into.pulls += delta.pulls;
  for (let h = 0; h < HEAD_COUNT; h++) {
    into.obs[h] += delta.obs[h];
    into.sum[h] += delta.sum[h];
  }
  return into;
}

/** Records a decision for this arm with context x: A += x xᵀ, Σx += x, pulls += 1. */
export function recordDecision(s: ArmStats, x: ArrayLike<number>): void {
  const d = x.length;
  for (let i = 0; i < d; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    s.xs[i] += xi;
    const row = i * d;
    for (let j = 0; j < d; j++) s.xx[row + j] += xi * x[j];
  }
  s.pulls += 1;
}

/** Records an observation r of head h for a decision with context x: b_h += r x, Σ_h x += x. */
export function recordObservation(s: ArmStats, x: ArrayLike<number>, head: number, r: number): void {
  const d = x.length;
  const off = head * d;
  for (let i = 0; i < d; i++) {
    s.xr[off + i] += r * x[i];
    s.xo[off + i] += x[i];
  }
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
 * [pulls, obs×H, sum×H, xx (d²), xr (H·d), xs (d), xo (H·d)].
 */
export function armStatsLength(d: number): number {
  return legacyArmStatsLength(d) + d + HEAD_COUNT * d;
}

/** The layout before `xs` and `xo` (kept readable: prior uploads stored in it; their values all arrived). */
const legacyArmStatsLength = (d: number): number => 1 + 2 * HEAD_COUNT + d * d + HEAD_COUNT * d;

/** Whether `v` holds one arm's statistics at dimension d, in the current or the earlier layout. */
export const isArmStatsBlob = (v: Float64Array, d: number): boolean => v.length === armStatsLength(d) || v.length === legacyArmStatsLength(d);

export function packArmStats(s: ArmStats, out?: Float64Array): Float64Array {
  const d = s.xs.length;
  const v = out ?? new Float64Array(armStatsLength(d));
  const o = 1 + 2 * HEAD_COUNT;
  v[0] = s.pulls;
  v.set(s.obs, 1);
  v.set(s.sum, 1 + HEAD_COUNT);
  v.set(s.xx, o);
  v.set(s.xr, o + d * d);
  v.set(s.xs, o + d * d + HEAD_COUNT * d);
  v.set(s.xo, o + d * d + HEAD_COUNT * d + d);
  return v;
}

/**
 * The statistics in `v` (either layout: one in the earlier has `xs` and `xo` at 0, which the local missing-feedback
 * factor reads as "where values arrive is unknown" and replaces by the arm's global pulls/obs).
 */
export function unpackArmStats(v: Float64Array, d: number): ArmStats {
  if (!isArmStatsBlob(v, d)) throw new Error(`arm stats length ${v.length} does not match d=${d}`);
  const o = 1 + 2 * HEAD_COUNT;
  const tail = o + d * d + HEAD_COUNT * d;
  const legacy = v.length !== armStatsLength(d);
  return {
    pulls: v[0],
    obs: v.slice(1, 1 + HEAD_COUNT),
    sum: v.slice(1 + HEAD_COUNT, o),
    xx: v.slice(o, o + d * d),
    xr: v.slice(o + d * d, tail),
    xs: legacy ? new Float64Array(d) : v.slice(tail, tail + d),
    xo: legacy ? new Float64Array(HEAD_COUNT * d) : v.slice(tail + d, tail + d + HEAD_COUNT * d),
  };
}
