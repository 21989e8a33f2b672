import { type ArmEstimate, finish, HEAD_COUNT, linearEstimates, setPrices, type Steps } from '@app/bandits';
import { BUDGET_LIMITS, type BudgetKey, budgetPrices, budgetStandings, noPendingSpend } from './budget-pacing.js';
import type { PolicyRuntime } from './runtime.js';

/** The price each of a policy's budgets starts from (μ₀, dimensionless like the dual price). */
export type BudgetStartPrices = Partial<Record<BudgetKey, number>>;

/** Largest start price searched: the score then pays 10⁴ per limit of predicted spend (cheapest arm everywhere). */
const MAX_START_PRICE = 1e4;
const BISECTIONS = 40;
/** Rounds of coordinate-wise search when two budgets pace together. */
const JOINT_ROUNDS = 4;

interface ContextEstimates {
  /** Scalarised mean of each arm without any price. */
  mean: Float64Array;
  /** Predicted spend of each arm per budget head, [budget][arm]: what the price multiplies in the score. */
  spend: Float64Array[];
}

/** The algorithms that choose by the linear model's scalarised scores, which the price moves. */
const PRICED_BY_SCORES: readonly string[] = ['linucb', 'lin-ts', 'epsilon-greedy'];

/**
 * The start price μ₀ of each budget (ALGORITHMS.md §10a, "starting price"): the price at which the greedy
 * decisions of the compiled model (means only, no exploration) over `contexts` spend the limit on average, by
 * the same head predictions the price acts on (a decision's spend counted at no less than 0, as a replica counts
 * its pending spend). The dual price then moves around μ₀ instead of rising from 0, so a warm-started policy
 * neither overspends while the price climbs nor pays the noise of a price that carries the whole correction. A
 * budget gets no start price when the unpriced choices already keep to it (μ₀ would be 0) or when no price does
 * (even the cheapest choices are predicted over the limit: a guess that far off must not hold the price up), nor
 * on algorithms that do not choose by the scores. Two budgets are searched coordinate-wise. Pure: `rt`'s prices
 * are restored before it returns.
 */
export function budgetStartPrices(rt: PolicyRuntime, contexts: readonly Float64Array[]): BudgetStartPrices {
  return finish(budgetStartPricesSteps(rt, contexts));
}

/**
 * budgetStartPrices in steps: one per context estimated, then one per pass over the contexts at a trial price.
 * Between its first steps `rt` is unpriced: give it a runtime nothing decides with meanwhile.
 */
export function* budgetStartPricesSteps(rt: PolicyRuntime, contexts: readonly Float64Array[]): Steps<BudgetStartPrices> {
  const budget = rt.policy.budget;
  const limits = BUDGET_LIMITS.filter(({ key }) => budget?.[key] !== undefined).map((l) => ({ ...l, limit: budget![l.key]! }));
  if (limits.length === 0 || contexts.length === 0 || !PRICED_BY_SCORES.includes(rt.algorithm)) return {};
  const estimates = yield* unpricedEstimates(rt, contexts, limits);
  const prices = new Float64Array(limits.length);
  const values = limits.map((l) => l.limit);
  for (let round = 0; round < (limits.length > 1 ? JOINT_ROUNDS : 1); round++)
    for (let b = 0; b < limits.length; b++) prices[b] = yield* priceFor(estimates, prices, values, b);
  const out: BudgetStartPrices = {};
  limits.forEach((l, b) => {
    if (prices[b] > 0 && prices[b] < MAX_START_PRICE) out[l.key] = prices[b];
  });
  return out;
}

/** Each context's unpriced estimates, one step per context. */
function* unpricedEstimates(rt: PolicyRuntime, contexts: readonly Float64Array[], limits: readonly { head: 'cost' | 'energy' }[]): Steps<ContextEstimates[]> {
  const saved = Float64Array.from(rt.model.prices);
  setPrices(rt.model, new Float64Array(HEAD_COUNT));
  const all = rt.policy.arms.map((_, i) => i);
  const out: ContextEstimates[] = [];
  try {
    for (const x of contexts) {
      const est: ArmEstimate[] = linearEstimates(rt.model, x, all, false);
      out.push({ mean: Float64Array.from(est, (e) => e.mean), spend: limits.map(({ head }) => Float64Array.from(est, (e) => e[head])) });
      yield;
    }
  } finally {
    setPrices(rt.model, saved);
  }
  return out;
}

/** Mean predicted spend of budget `b` when every context takes its best arm at `prices` (per limit). */
function meanSpend(estimates: readonly ContextEstimates[], prices: Float64Array, limits: readonly number[], b: number): number {
  let total = 0;
  for (const { mean, spend } of estimates) {
    let best = 0;
    let bestScore = -Infinity;
    for (let a = 0; a < mean.length; a++) {
      let s = mean[a];
      for (let j = 0; j < prices.length; j++) s -= (prices[j] / limits[j]) * spend[j][a];
      if (s > bestScore) {
        bestScore = s;
        best = a;
      }
    }
    total += Math.max(0, spend[b][best]);
  }
  return total / estimates.length;
}

/** The smallest price of budget `b` (others held) whose greedy mean spend is within its limit (bisection), a step per trial price. */
function* priceFor(estimates: readonly ContextEstimates[], prices: Float64Array, limits: readonly number[], b: number): Steps<number> {
  const limit = limits[b];
  const over = function* (mu: number): Steps<boolean> {
    const p = Float64Array.from(prices);
    p[b] = mu;
    const spend = meanSpend(estimates, p, limits, b);
    yield;
    return spend > limit;
  };
  if (!(yield* over(0))) return 0;
  let hi = 1;
  while (hi < MAX_START_PRICE && (yield* over(hi))) hi *= 2;
  if (hi >= MAX_START_PRICE) return MAX_START_PRICE;
  let lo = 0;
  for (let i = 0; i < BISECTIONS; i++) {
    const mid = (lo + hi) / 2;
    if (yield* over(mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Installs start prices on a runtime's policy (budgetSince of its epoch, nothing spent yet) and reprices it. */
export function startBudgetAt(rt: PolicyRuntime, startPrices: BudgetStartPrices): void {
  rt.policy.budgetSince = { ...(rt.policy.budgetSince ?? noPendingSpend()), epoch: rt.policy.epoch, startPrices };
  setPrices(rt.model, budgetPrices(budgetStandings(rt.policy, rt.stats, rt.pending)));
}

/** A budget standing's totals with start prices, or without any when there are none (no empty object stored). */
export function withStartPrices<T extends { startPrices?: BudgetStartPrices }>(since: T, startPrices: BudgetStartPrices | undefined): T {
  const { startPrices: _old, ...rest } = since;
  return (startPrices && Object.keys(startPrices).length > 0 ? { ...rest, startPrices } : rest) as T;
}
