import { type ArmEstimate, type ArmStats, HEAD_COUNT, headIndex, setPrices } from '@app/bandits';
import { type Policy, type SpendTotals } from '@app/contracts';
import type { PolicyRuntime } from './runtime.js';

/**
 * Gain k_p of the dual price (ALGORITHMS.md §10a). The running mean settles at b·(1 + μ⋆/k_p): on test K1
 * (libs/replay/budget-pacing.spec.ts, 20 seeds × 10,000) k_p = 10 / 20 / 30 / 50 overspend by 1.2 / 0.6 / 0.4 /
 * 0.2 % at 99.3 / 99.3 / 99.0 / 98.9 % of the LP optimum (learnt quality); larger gains react harder to single
 * dear requests.
 */
export const DEFAULT_BUDGET_GAIN = 30;
/**
 * Gain of a price that starts from μ₀ (budgetStartPrices): it only corrects μ₀'s error, so it can be small and
 * the price less noisy. On test K1 started at μ₀ (libs/replay/budget-pacing.spec.ts, 20 seeds) k_p = 1 / 2 / 3 /
 * 5 / 10 / 30 reach 100.0 / 100.0 / 100.0 / 100.0 / 99.9 / 99.7 % of the LP optimum with spend ≤ +0.5 %; 5 keeps
 * a wrong μ₀'s offset (μ⋆ − μ₀)/k_p a fifth of k_p = 1's.
 */
export const STARTED_BUDGET_GAIN = 5;
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
  /** μ₀, where the price started (budgetStartPrices, capped at k_p); absent: 0. */
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
 * Dual (Lagrangian) pacing as a function of additive totals (ALGORITHMS.md §10a, "concurrency-safe form"):
 * μ = max(0, μ₀ + k_p·(S − b·N) / (b·N + c₀)), with μ₀ the start price (budgetSince.startPrices, at most k_p so
 * that underspending can always bring μ to 0; else 0. k_p is STARTED_BUDGET_GAIN with a start price unless
 * params.budgetGain says), S the spend and N the requests with a realised value
 * since the budget was set (policy.budgetSince, in the same epoch; else since the epoch began), b the limit and c₀ = N₀·b.
 * μ is k_p times the relative overspend of the running mean, so every replica computes the same price from the
 * merged counters, and the running mean settles just above the limit where μ buys the quality the budget allows
 * (b·(1 + μ⋆ / k_p), μ⋆ the optimal price). The score pays μ per `b` of predicted spend. `pending`: a replica's
 * own decisions since its copy was compiled, counted at their predicted spend (recordPendingSpend).
 */
export function budgetStandings(policy: Policy, stats: readonly ArmStats[], pending?: SpendTotals): BudgetStanding[] {
  const budget = policy.budget;
  if (!budget) return [];
  const now = spendTotals(stats, pending);
  const since = policy.budgetSince && policy.budgetSince.epoch === policy.epoch ? policy.budgetSince : null;
  const out: BudgetStanding[] = [];
  for (const { key, head } of BUDGET_LIMITS) {
    const limit = budget[key];
    if (limit === undefined) continue;
    // A state rebuilt with fewer events than at the snapshot (events expired) restarts the count.
    const base = since && since[head].count <= now[head].count ? since[head] : { sum: 0, count: 0 };
    const spent = now[head].sum - base.sum;
    const requests = now[head].count - base.count;
    const started = since?.startPrices?.[key] ?? 0;
    const gain = policy.params.budgetGain ?? (started > 0 ? STARTED_BUDGET_GAIN : DEFAULT_BUDGET_GAIN);
    // The correction is at least −k_p (nothing spent): a start above the gain could never be worked off.
    const start = started > 0 ? Math.min(started, gain) : undefined;
    out.push({
      key,
      head,
      limit,
      requests,
      meanPerRequest: requests > 0 ? spent / requests : null,
      price: Math.max(0, (start ?? 0) + (gain * (spent - limit * requests)) / (limit * (requests + BUDGET_DAMPING_REQUESTS))),
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
