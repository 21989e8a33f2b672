import { finish, type Rng, type Steps } from '@app/bandits';
import { quantileSeq } from 'mathjs';

/** One logged decision with an observed value of the head being evaluated. */
export interface LoggedSample {
  /** Probability the logging policy gave the served arm (> 0; what the decision logged). */
  propensity: number;
  /** Index of the served arm among the decision's candidates. */
  served: number;
  /** The observed value (a reward, joules, USD, ms). */
  value: number;
  /** The evaluated policy's probability of each candidate. */
  target: ArrayLike<number>;
  /** The reward model's prediction for each candidate. */
  predicted: ArrayLike<number>;
}

export interface OffPolicyEstimate {
  n: number;
  /** Inverse propensity scoring: (1/n)·Σ w·r, w = π(a|x)/p. */
  ips: number;
  /** Self-normalised IPS: Σ w·r / Σ w. */
  snips: number;
  /** Doubly robust: (1/n)·Σ [Σ_a π(a|x)·q̂(x,a) + w·(r − q̂(x,a_logged))]. */
  dr: number;
  /** The reward model alone (direct method). */
  dm: number;
  /** (Σw)² / Σw²: how many logged decisions the estimate is worth. */
  effectiveSampleSize: number;
  /** Share of samples where the evaluated policy gives the logged arm a probability of at least ½. */
  support: number;
  /** 95 % percentile-bootstrap interval of the doubly robust estimate. */
  ci95: [number, number];
}

/** Per-sample doubly robust terms and importance weights. */
function terms(samples: readonly LoggedSample[]): { dr: Float64Array; w: Float64Array; dm: Float64Array } {
  const n = samples.length;
  const dr = new Float64Array(n);
  const w = new Float64Array(n);
  const dm = new Float64Array(n);
  samples.forEach((s, i) => {
    let direct = 0;
    for (let a = 0; a < s.target.length; a++) direct += s.target[a] * s.predicted[a];
    w[i] = s.target[s.served] / s.propensity;
    dm[i] = direct;
    dr[i] = direct + w[i] * (s.value - s.predicted[s.served]);
  });
  return { dr, w, dm };
}

const mean = (v: Float64Array): number => v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);

/**
 * Off-policy estimates of a head's mean under an evaluated policy from decisions logged with their propensities
 * (ALGORITHMS.md §12): IPS, SNIPS, doubly robust (the reward model as control variate) and the direct method, the
 * effective sample size, and a 95 % percentile-bootstrap interval of the doubly robust value (`resamples`
 * resamples of the decisions, drawn from `rng`). Off the request path: O(n·resamples).
 */
export function estimateOffPolicy(samples: readonly LoggedSample[], rng: Rng, resamples = 400): OffPolicyEstimate {
  return finish(estimateOffPolicySteps(samples, rng, resamples));
}

/** estimateOffPolicy in steps: one step per bootstrap resample (O(n) each). */
export function* estimateOffPolicySteps(samples: readonly LoggedSample[], rng: Rng, resamples = 400): Steps<OffPolicyEstimate> {
  const n = samples.length;
  if (n === 0) throw new RangeError('no logged samples');
  const { dr, w, dm } = terms(samples);
  let sw = 0;
  let sw2 = 0;
  let swr = 0;
  let supported = 0;
  samples.forEach((s, i) => {
    sw += w[i];
    sw2 += w[i] * w[i];
    swr += w[i] * s.value;
    if (s.target[s.served] >= 0.5) supported++;
  });
  return {
    n,
    ips: swr / n,
    snips: sw > 0 ? swr / sw : NaN,
    dr: mean(dr),
    dm: mean(dm),
    effectiveSampleSize: sw2 > 0 ? (sw * sw) / sw2 : 0,
    support: supported / n,
    ci95: yield* bootstrapInterval(dr, rng, resamples),
  };
}

/** The logged policy's own mean of a head, with a 95 % percentile-bootstrap interval. */
export function onPolicyMean(values: readonly number[], rng: Rng, resamples = 400): OnPolicyMean {
  return finish(onPolicyMeanSteps(values, rng, resamples));
}

export interface OnPolicyMean {
  estimate: number;
  ci95: [number, number];
}

/** onPolicyMean in steps: one step per bootstrap resample (O(n) each). */
export function* onPolicyMeanSteps(values: readonly number[], rng: Rng, resamples = 400): Steps<OnPolicyMean> {
  if (values.length === 0) throw new RangeError('no logged values');
  const v = Float64Array.from(values);
  return { estimate: mean(v), ci95: yield* bootstrapInterval(v, rng, resamples) };
}

/**
 * 2.5 % and 97.5 % quantiles of the mean of `values` over `resamples` resamples with replacement (none: NaN), one
 * step per resample.
 */
function* bootstrapInterval(values: Float64Array, rng: Rng, resamples: number): Steps<[number, number]> {
  if (resamples <= 0) return [NaN, NaN];
  const n = values.length;
  const boot: number[] = new Array<number>(resamples);
  for (let b = 0; b < resamples; b++) {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += values[rng.int(n)];
    boot[b] = acc / n;
    yield;
  }
  const [lo, hi] = quantileSeq(boot, [0.025, 0.975]) as number[];
  return [lo, hi];
}
