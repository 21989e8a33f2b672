import { type ArmEstimate, type ArmStats, HEAD_COUNT, headIndex, setPrices } from '@app/bandits';
import { MIN_SCALE, type Policy, type SpendTotals } from '@app/contracts';
import type { PolicyRuntime } from './runtime.js';

/**
 * Gain k_p of the dual price (ALGORITHMS.md §10a). The running mean settles at b·(1 + μ⋆/k_p): on test K1
 * (libs/replay/budget-pacing.spec.ts, 20 seeds × 10,000) k_p = 10 / 20 / 30 / 50 overspend by 1.2 / 0.6 / 0.4 /
 * 0.2 % at 99.3 / 99.3 / 99.0 / 98.9 % of the LP optimum (learnt quality); larger gains react harder to single
 * dear requests.
 */
export const DEFAULT_BUDGET_GAIN = 30;
/**
 * Relative gain k_r of a price that starts from μ₀ (budgetStartPrices): μ = μ₀·exp(k_r·e), e the relative overspend
 * of the running mean (and at least k_p·(e − STARTED_PRICE_SLACK), see budgetStandings). The correction scales with
 * μ₀, so a price whose optimum is small (a few per cent of a request's worth of quality) is not swung from 0 to many
 * times itself by the noise of the running mean, and a wrong μ₀ leaves a steady offset of ln(μ⋆/μ₀)/k_r (bounded
 * by the additive floor when μ₀ is far too low). The smallest of 2, 5, 10, 20, 40, 80 that keeps the worst running
 * mean after request 300 within +3 % on test K1 with μ₀ off by 2x either way (libs/replay/budget-pacing.spec.ts,
 * 20 seeds, known quality: +2.8 % at 40, +4.5 % at 20; quality ≥ 99.7 % of the LP optimum at 40).
 */
export const STARTED_BUDGET_GAIN = 40;
/** Cap on k_r·e, so a large overspend gives a large, finite price. */
const MAX_LOG_PRICE_STEP = 30;
/**
 * Overspend beyond which a started price is also at least k_p·(e − slack), the additive price shifted by the slack:
 * a μ₀ far below μ⋆ (a prior from other traffic) would otherwise leave an offset of ln(μ⋆/μ₀)/k_r, unbounded as
 * μ₀ → 0.
 */
export const STARTED_PRICE_SLACK = 0.03;
/** Requests' worth of the limit in the price's denominator (c₀ = N₀·b): damps the first few requests. */
export const BUDGET_DAMPING_REQUESTS = 10;

/** The budgets a policy may carry, and the head each one paces. */
export const BUDGET_LIMITS = [
  { key: 'costUsdPerRequest', head: 'cost' },
  { key: 'energyJoulesPerRequest', head: 'energy' },
] as const;
export type BudgetKey = (typeof BUDGET_LIMITS)[number]['key'];

/** One budget as it stands: the limit, what was spent per request since it was set, and its dual price μ. */
export interface BudgetStanding {
  key: BudgetKey;
  head: 'cost' | 'energy';
  limit: number;
  /** Requests with a realised value of the head since the budget was set, and their mean. */
  requests: number;
  meanPerRequest: number | null;
  /** μ ≥ 0, dimensionless: the score pays μ per `limit` of predicted spend. */
  price: number;
  /** μ₀, where the price started (budgetStartPrices); absent: 0. */
  startPrice?: number;
}

/** Σ value and observations of the energy and cost heads over every arm: additive, so the same on every replica. */
export function spendTotals(stats: readonly ArmStats[], pending?: SpendTotals): SpendTotals {
  const t: SpendTotals = pending ? { energy: { ...pending.energy }, cost: { ...pending.cost } } : { energy: { sum: 0, count: 0 }, cost: { sum: 0, count: 0 } };
  for (const s of stats)
    for (const head of ['energy', 'cost'] as const) {
      t[head].sum += s.sum[headIndex[head]];
      t[head].count += s.obs[headIndex[head]];
    }
  return t;
}

/**
 * Dual (Lagrangian) pacing as a function of additive totals (ALGORITHMS.md §10a, "concurrency-safe form"), with
 * e = (S − b·N) / (b·N + c₀) the relative overspend of the running mean: S the spend and N the requests with a
 * realised value since the budget was set (policy.budgetSince, in the same epoch; else since the epoch began), b
 * the limit and c₀ = N₀·b. From 0: μ = max(0, k_p·e), k_p = DEFAULT_BUDGET_GAIN (the running mean settles at
 * b·(1 + μ⋆/k_p), μ⋆ the optimal price). From a start price μ₀ (budgetSince.startPrices):
 * μ = max(μ₀·exp(k_r·e), k_p·(e − STARTED_PRICE_SLACK)), k_r = STARTED_BUDGET_GAIN. params.budgetGain sets k_p,
 * params.budgetStartGain k_r. Every replica computes the same price from
 * the merged counters. The score pays μ per `b` of predicted spend. `pending`: a replica's own decisions since its
 * copy was compiled, counted at their predicted spend (recordPendingSpend).
 */
export function budgetStandings(policy: Policy, stats: readonly ArmStats[], pending?: SpendTotals): BudgetStanding[] {
  const budget = policy.budget;
  if (!budget) return [];
  const now = spendTotals(stats, pending);
  const since = policy.budgetSince && policy.budgetSince.epoch === policy.epoch ? policy.budgetSince : null;
  const out: BudgetStanding[] = [];
  for (const { key, head } of BUDGET_LIMITS) {
    const set = budget[key];
    if (set === undefined) continue;
    // A limit stored before limits had their lower bound is paced at it (the price divides by the limit).
    const limit = Math.max(MIN_SCALE, set);
    // A state rebuilt with fewer events than at the snapshot (events expired) restarts the count.
    const base = since && since[head].count <= now[head].count ? since[head] : { sum: 0, count: 0 };
    const spent = now[head].sum - base.sum;
    const requests = now[head].count - base.count;
    const started = since?.startPrices?.[key] ?? 0;
    const start = started > 0 ? started : undefined;
    const kp = policy.params.budgetGain ?? DEFAULT_BUDGET_GAIN;
    const kr = policy.params.budgetStartGain ?? STARTED_BUDGET_GAIN;
    const overspend = (spent - limit * requests) / (limit * (requests + BUDGET_DAMPING_REQUESTS));
    const additive = kp * Math.max(0, overspend - (start === undefined ? 0 : STARTED_PRICE_SLACK));
    out.push({
      key,
      head,
      limit,
      requests,
      meanPerRequest: requests > 0 ? spent / requests : null,
      price: start === undefined ? additive : Math.max(start * Math.exp(Math.min(MAX_LOG_PRICE_STEP, kr * overspend)), additive),
      ...(start === undefined ? {} : { startPrice: start }),
    });
  }
  return out;
}

/** Per head, the price per unit the score pays (μ / limit; 0 for heads without a budget). */
export function budgetPrices(standings: readonly BudgetStanding[]): Float64Array {
  const prices = new Float64Array(HEAD_COUNT);
  for (const s of standings) prices[headIndex[s.head]] = s.price / s.limit;
  return prices;
}

export const noPendingSpend = (): SpendTotals => ({ energy: { sum: 0, count: 0 }, cost: { sum: 0, count: 0 } });

/**
 * A replica's own decision, counted at its predicted energy and cost until the next compile (which starts from
 * zero again: a call still in flight then counts neither predicted nor realised until its value arrives), and the
 * prices moved at once. Without it a replica would keep
 * one price for the whole interval between compiles, and at a few hundred requests a second overspend by a
 * window's worth of dear decisions before the price reacts.
 */
export function recordPendingSpend(rt: PolicyRuntime, served: ArmEstimate): void {
  if (!rt.policy.budget) return;
  // Only heads whose realised values arrive at all (a policy routed only through /v1/route never realises cost:
  // its predicted cost must not move a price between compiles).
  const realised = spendTotals(rt.stats);
  if (realised.energy.count > 0) {
    rt.pending.energy.sum += Math.max(0, served.energy);
    rt.pending.energy.count += 1;
  }
  if (realised.cost.count > 0) {
    rt.pending.cost.sum += Math.max(0, served.cost);
    rt.pending.cost.count += 1;
  }
  setPrices(rt.model, budgetPrices(budgetStandings(rt.policy, rt.stats, rt.pending)));
}
