import { finish, HEADS, linearEstimates, type Rng, type Steps } from '@app/bandits';
import { estimateOffPolicySteps, type LoggedSample, onPolicyMeanSteps } from './off-policy.js';
import { resolveParams, type PolicyRuntime } from './runtime.js';

/** A logged single decision, mapped onto the policy's arm indices, with what was realised after it. */
export interface LoggedDecision {
  x: Float64Array;
  /** Arm indices the decision chose among. */
  candidates: number[];
  /** The served arm (one of `candidates`). */
  served: number;
  propensity: number;
  /** Per head (quality, energy, cost, latency), the realised value or null. */
  outcomes: (number | null)[];
}

export interface HeadEstimate {
  estimate: number;
  ci95: [number, number];
}

export interface CandidateHeadEstimate extends HeadEstimate {
  ips: number;
  snips: number;
  dr: number;
  /** Decisions with a realised value of this head that the estimate rests on. */
  n: number;
  effectiveSampleSize: number;
}

export interface CandidateEvaluation {
  n: number;
  effectiveSampleSize: number;
  logged: Record<(typeof HEADS)[number], HeadEstimate | null>;
  candidate: Record<(typeof HEADS)[number], CandidateHeadEstimate | null> & { shares: Record<string, number> };
  warnings: string[];
}

/** Fewer effective decisions than this: the interval is wide and the estimate may rest on a few decisions. */
export const THIN_SUPPORT_ESS = 200;

/**
 * The candidate's probability of each of `candidates` at x, as the index policy it decides by: ε-mixed argmax of
 * the scalarised mean plus (LinUCB) α times the width, ties split. Sampling policies (lin-ts, beta-ts, fgts-cdb,
 * ti-ucb) are evaluated as that index policy with α = 0 on their linear statistics: a deterministic stand-in whose
 * propensities are exact, where their own would need Monte Carlo draws per logged decision; `random` as uniform.
 */
export function indexPolicyProbabilities(rt: PolicyRuntime, x: Float64Array, candidates: readonly number[]): Float64Array {
  const n = candidates.length;
  if (rt.algorithm === 'random') return new Float64Array(n).fill(1 / n);
  const { alpha, epsilon } = resolveParams(rt.policy);
  const optimism = rt.algorithm === 'linucb' ? alpha : 0;
  const est = linearEstimates(rt.model, x, candidates, optimism > 0);
  const scores = est.map((e) => e.mean + optimism * e.bonus);
  const best = Math.max(...scores);
  const ties = scores.filter((s) => s === best).length;
  return Float64Array.from(scores, (s) => (s === best ? (1 - epsilon) / ties : 0) + epsilon / n);
}

/**
 * Off-policy evaluation of a candidate (the live policy with other weights, exploration or budget) on the logged
 * decisions (ALGORITHMS.md §12): per head the logged policy's realised mean and the candidate's doubly robust
 * estimate with IPS and SNIPS beside it, the reward model being the live policy's learnt heads. Heads with no
 * realised value answer null. Shares: the candidate's expected share of each model over the logged contexts.
 */
export function evaluateCandidate(
  live: PolicyRuntime,
  candidate: PolicyRuntime,
  decisions: readonly LoggedDecision[],
  rng: Rng,
  resamples = 400,
): CandidateEvaluation {
  return finish(evaluateCandidateSteps(live, candidate, decisions, rng, resamples));
}

/**
 * evaluateCandidate in steps (one per logged decision, then one per bootstrap resample), for a caller that serves
 * requests meanwhile: an evaluation of 20,000 decisions takes seconds of CPU.
 */
export function* evaluateCandidateSteps(
  live: PolicyRuntime,
  candidate: PolicyRuntime,
  decisions: readonly LoggedDecision[],
  rng: Rng,
  resamples = 400,
): Steps<CandidateEvaluation> {
  const arms = live.policy.arms;
  const shares = new Float64Array(arms.length);
  const samples: LoggedSample[][] = HEADS.map(() => []);
  const realised: number[][] = HEADS.map(() => []);
  let lowPropensity = 0;
  const routed = decisions.filter((d) => d.candidates.length > 0);
  for (const dec of routed) {
    const target = indexPolicyProbabilities(candidate, dec.x, dec.candidates);
    dec.candidates.forEach((a, c) => (shares[a] += target[c] / routed.length));
    yield;
    const served = dec.candidates.indexOf(dec.served);
    if (served < 0) continue;
    if (dec.propensity < 0.01) lowPropensity++;
    const predicted = linearEstimates(live.model, dec.x, dec.candidates, false);
    HEADS.forEach((head, h) => {
      const value = dec.outcomes[h];
      if (value === null) return;
      realised[h].push(value);
      samples[h].push({ propensity: dec.propensity, served, value, target, predicted: predicted.map((e) => e[head]) });
    });
  }
  const logged = {} as CandidateEvaluation['logged'];
  const cand = { shares: {} } as CandidateEvaluation['candidate'];
  for (const [h, head] of HEADS.entries()) {
    if (samples[h].length === 0) {
      logged[head] = null;
      cand[head] = null;
      continue;
    }
    logged[head] = yield* onPolicyMeanSteps(realised[h], rng, resamples);
    const e = yield* estimateOffPolicySteps(samples[h], rng, resamples);
    cand[head] = { estimate: e.dr, ci95: e.ci95, ips: e.ips, snips: e.snips, dr: e.dr, n: e.n, effectiveSampleSize: e.effectiveSampleSize };
  }
  arms.forEach((m, a) => (cand.shares[m] = shares[a]));
  const q = cand.quality;
  const warnings: string[] = [];
  if (decisions.length === 0) warnings.push('no logged decisions in the window');
  if (q === null && decisions.length > 0) warnings.push('no logged decision in the window has feedback: quality cannot be estimated');
  if (q !== null && q.effectiveSampleSize < THIN_SUPPORT_ESS)
    warnings.push(`thin support: the quality estimate is worth ${q.effectiveSampleSize.toFixed(0)} logged decisions (of ${q.n})`);
  if (lowPropensity > 0.05 * decisions.length)
    warnings.push(`${lowPropensity} logged decisions had a propensity below 0.01: where the candidate chooses differently the estimate rests on few of them`);
  return { n: decisions.length, effectiveSampleSize: q?.effectiveSampleSize ?? 0, logged, candidate: cand, warnings };
}
