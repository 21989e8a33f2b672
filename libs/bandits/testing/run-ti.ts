import { createRng, type Rng } from '../prng.js';
import { decideTiUcb, DEFAULT_TI_UCB, TiUcbArm, type TiUcbParams } from '../ti-ucb.js';

const { exp, log, sqrt } = Math;

/** ALGORITHMS.md §9 TI1 (late bloomer) and TI2 (stationary): mean_i(t) = C_i − (C_i − S_i)·e^{−t/τ_i}. */
export interface TrendEnv {
  C: number[];
  S: number[];
  tau: number[];
}

export const LATE_BLOOMER: TrendEnv = { C: [0.62, 0.85, 0.5], S: [0.62, 0.3, 0.2], tau: [1, 800, 400] };
export const STATIONARY: TrendEnv = { C: [0.5, 0.6, 0.7], S: [0.5, 0.6, 0.7], tau: [1, 1, 1] };

const meanAt = (env: TrendEnv, k: number, t: number): number => env.C[k] - (env.C[k] - env.S[k]) * exp(-t / env.tau[k]);

export interface TrendRun {
  regret: number;
  /** Share of the best final arm in the last 1000 rounds. */
  lateShare: number;
  convergedBest: boolean;
}

function play(env: TrendEnv, T: number, rng: Rng, choose: (t: number) => number, learn: (k: number, t: number, r: number) => void, lateWindow = 1000) {
  const K = env.C.length;
  const finalBest = env.C.indexOf(Math.max(...env.C));
  let regret = 0;
  let late = 0;
  for (let t = 0; t < T; t++) {
    const k = choose(t);
    let top = -Infinity;
    for (let i = 0; i < K; i++) top = Math.max(top, meanAt(env, i, t));
    regret += top - meanAt(env, k, t);
    if (t >= T - lateWindow && k === finalBest) late++;
    learn(k, t, rng.next() < meanAt(env, k, t) ? 1 : 0);
  }
  return { regret, lateShare: late / lateWindow, finalBest };
}

export function runTiUcb(seed: number, env: TrendEnv, p: TiUcbParams = DEFAULT_TI_UCB, T = 5000, late = 1000): TrendRun {
  const rng = createRng(77_000 + seed);
  const arms = env.C.map(() => new TiUcbArm());
  const all = env.C.map((_, i) => i);
  const res = play(
    env,
    T,
    rng,
    (t) => decideTiUcb(arms, t + 1, all, p).arm,
    (k, t, r) => arms[k].observe(t, r, p),
    late,
  );
  return { regret: res.regret, lateShare: res.lateShare, convergedBest: arms[res.finalBest].convergedAt !== null };
}

/** UCB1 (c = √2) reference: each arm once, then mean + c·√(ln t / n). */
export function runUcb1(seed: number, env: TrendEnv, T = 5000): TrendRun {
  const rng = createRng(77_000 + seed);
  const K = env.C.length;
  const n = new Array<number>(K).fill(0);
  const s = new Array<number>(K).fill(0);
  const res = play(
    env,
    T,
    rng,
    (t) => {
      if (t < K) return t;
      let best = 0;
      let top = -Infinity;
      for (let i = 0; i < K; i++) {
        const v = s[i] / n[i] + sqrt((2 * log(t + 1)) / n[i]);
        if (v > top) {
          top = v;
          best = i;
        }
      }
      return best;
    },
    (k, _t, r) => {
      n[k]++;
      s[k] += r;
    },
  );
  return { regret: res.regret, lateShare: res.lateShare, convergedBest: false };
}
