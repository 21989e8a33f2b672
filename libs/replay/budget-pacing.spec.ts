import { createRng, headIndex, recordDecision, recordObservation } from '@app/bandits';
import { type Model } from '@app/contracts';
import {
  budgetStandings,
  budgetStartPrices,
  DEFAULT_BUDGET_GAIN,
  recompileArms,
  spendTotals,
  STARTED_BUDGET_GAIN,
  STARTED_PRICE_SLACK,
  startBudgetAt,
} from '@app/learning';
import { ReplayPolicy } from './policies.js';

/**
 * Test K1 (ALGORITHMS.md §10a): three difficulties (mix 0.5 / 0.3 / 0.2), three models of cost 1, 5, 20 per query
 * and per-difficulty quality small (0.90, 0.50, 0.20), medium (0.95, 0.80, 0.50), large (0.97, 0.90, 0.85); budget
 * b = 5 per query. The LP optimum is 0.8367 (easy → small, medium → medium, hard → ⅓ medium + ⅔ large). Decided
 * through the service's own decision path (ReplayPolicy: buildRuntime/recompileArms + decidePolicy), the price
 * computed from the additive spend totals as every replica computes it.
 */
const MIX = [0.5, 0.3, 0.2];
const QUALITY = [
  [0.9, 0.95, 0.97],
  [0.5, 0.8, 0.9],
  [0.2, 0.5, 0.85],
];
const COST = [1, 5, 20];
const ARMS = ['small', 'medium', 'large'];
const LP = 0.8367;
const BUDGET = 5;
const T = 10_000;
const SEEDS = 20;

/** Registry prices that make each model's expected cost per query exactly its cost (256 expected output tokens). */
const REGISTRY = new Map<string, Model>(ARMS.map((id, a) => [id, { id, enabled: true, pricing: { inputPerMTok: 0, outputPerMTok: (COST[a] * 1e6) / 256 } }]));

/** The three contexts in the proportions of MIX (10 of them): where a start price is searched. */
const mixContexts = (xs: readonly Float64Array[]) => MIX.flatMap((m, k) => Array.from({ length: Math.round(m * 10) }, () => xs[k]));

function run(
  seed: number,
  known: boolean,
  gain?: number,
  started = false,
  startScale = 1,
): { quality: number; spend: number; worstAfter300: number; startPrice?: number } {
  const rng = createRng(1000 + seed);
  const policy = new ReplayPolicy({
    algorithm: known ? 'epsilon-greedy' : 'linucb',
    arms: ARMS,
    dim: 3,
    objective: { quality: 1, energy: 0, cost: 0, latency: 0 },
    params: known ? { epsilon: 0 } : { alpha: 1 },
    models: REGISTRY,
    budget: { costUsdPerRequest: BUDGET },
    budgetGain: gain,
  });
  const xs = [0, 1, 2].map((k) => Float64Array.from([0, 1, 2], (i) => (i === k ? 1 : 0)));
  if (known)
    for (let a = 0; a < 3; a++)
      for (let k = 0; k < 3; k++)
        for (let n = 0; n < 2000; n++) {
          // Quality known: many exact observations (their spend is before the budget was set: budgetSince).
          recordDecision(policy.runtime.stats[a], xs[k]);
          recordObservation(policy.runtime.stats[a], xs[k], headIndex.quality, QUALITY[k][a]);
          recordObservation(policy.runtime.stats[a], xs[k], headIndex.cost, COST[a]);
        }
  let startPrice: number | undefined;
  if (known) {
    policy.runtime.policy.budgetSince = { epoch: policy.runtime.policy.epoch, ...spendTotals(policy.runtime.stats) };
    recompileArms(policy.runtime, [0, 1, 2]);
    if (started) {
      const prices = budgetStartPrices(policy.runtime, mixContexts(xs));
      prices.costUsdPerRequest! *= startScale;
      startPrice = prices.costUsdPerRequest;
      startBudgetAt(policy.runtime, prices);
    }
  }
  let quality = 0;
  let spend = 0;
  let worst = 0;
  for (let t = 0; t < T; t++) {
    const u = rng.next();
    const k = u < MIX[0] ? 0 : u < MIX[0] + MIX[1] ? 1 : 2;
    const { arm } = policy.choose(xs[k], t, rng);
    policy.decided([arm], xs[k]);
    const q = rng.next() < QUALITY[k][arm] ? 1 : 0;
    policy.observe([arm], xs[k], t, [{ quality: q, costUsd: COST[arm], energyJ: 0 }]);
    quality += q;
    spend += COST[arm];
    if (t + 1 >= 300) worst = Math.max(worst, spend / (t + 1));
  }
  return { quality: quality / T, spend: spend / T, worstAfter300: worst, startPrice };
}

/** A cold LinUCB policy over the three models with a cost budget (and, given, their registry prices). */
const linucbWithBudget = (limit: number, models?: ReadonlyMap<string, Model>) =>
  new ReplayPolicy({
    algorithm: 'linucb',
    arms: ARMS,
    dim: 3,
    objective: { quality: 1, energy: 0, cost: 0, latency: 0 },
    params: {},
    ...(models ? { models } : {}),
    budget: { costUsdPerRequest: limit },
  });

describe('budgets: dual pacing (test K1)', () => {
  it('the price is a function of the spend totals: 0 under the limit, k_p times the relative overspend over it', () => {
    const policy = linucbWithBudget(5);
    const x = Float64Array.from([1, 0, 0]);
    const standing = () => budgetStandings(policy.runtime.policy, policy.runtime.stats)[0];
    expect(standing()).toMatchObject({ key: 'costUsdPerRequest', limit: 5, requests: 0, meanPerRequest: null, price: 0 });
    for (let i = 0; i < 90; i++) policy.observe([0], x, i, [{ quality: 1, costUsd: 2, energyJ: 0 }]);
    expect(standing()).toMatchObject({ requests: 90, meanPerRequest: 2, price: 0 });
    for (let i = 0; i < 10; i++) policy.observe([2], x, i, [{ quality: 1, costUsd: 60, energyJ: 0 }]);
    // S = 180 + 600 = 780, b·N = 500, c₀ = 50: μ = k_p · 280 / 550.
    expect(standing().meanPerRequest).toBeCloseTo(7.8, 12);
    expect(standing().price).toBeCloseTo((DEFAULT_BUDGET_GAIN * 280) / 550, 12);
  });

  it(`known quality: spend ≤ 1.01·b in every seed, quality ≥ 0.99 × LP (${LP})`, () => {
    const runs = Array.from({ length: SEEDS }, (_, s) => run(s, true));
    const q = runs.reduce((a, r) => a + r.quality, 0) / SEEDS;
    console.log(
      `K1 known quality (k_p ${DEFAULT_BUDGET_GAIN}): quality ${q.toFixed(4)} (${((q / LP) * 100).toFixed(1)} % of LP), spend max ${Math.max(...runs.map((r) => r.spend)).toFixed(3)}, worst running mean after 300 ${Math.max(...runs.map((r) => r.worstAfter300)).toFixed(3)}`,
    );
    for (const r of runs) expect(r.spend).toBeLessThanOrEqual(1.01 * BUDGET);
    expect(q).toBeGreaterThanOrEqual(0.99 * LP);
  });

  it(`learned by LinUCB (α = 1): spend ≤ 1.01·b in every seed, mean quality ≥ 0.97 × LP`, () => {
    const runs = Array.from({ length: SEEDS }, (_, s) => run(s, false));
    const q = runs.reduce((a, r) => a + r.quality, 0) / SEEDS;
    console.log(
      `K1 learned (k_p ${DEFAULT_BUDGET_GAIN}): quality ${q.toFixed(4)} (min ${Math.min(...runs.map((r) => r.quality)).toFixed(4)}; ${((q / LP) * 100).toFixed(1)} % of LP), spend max ${Math.max(...runs.map((r) => r.spend)).toFixed(3)}, worst running mean after 300 ${Math.max(...runs.map((r) => r.worstAfter300)).toFixed(3)}`,
    );
    for (const r of runs) expect(r.spend).toBeLessThanOrEqual(1.01 * BUDGET);
    expect(q).toBeGreaterThanOrEqual(0.97 * LP);
  });

  it('started at μ₀: the start price is the LP dual price; spend ≤ 1.01·b in every seed, quality ≥ 0.995 × LP', () => {
    // Hard prompts tie medium and large at μ·(20 − 5)/b = 0.85 − 0.50: μ⋆ = 0.35·5/15.
    const runs = Array.from({ length: SEEDS }, (_, s) => run(s, true, undefined, true));
    const q = runs.reduce((a, r) => a + r.quality, 0) / SEEDS;
    console.log(
      `K1 started at μ₀ = ${runs[0].startPrice!.toFixed(5)} (k_r ${STARTED_BUDGET_GAIN}): quality ${q.toFixed(4)} (${((q / LP) * 100).toFixed(1)} % of LP), spend max ${Math.max(...runs.map((r) => r.spend)).toFixed(3)}, worst running mean after 300 ${Math.max(...runs.map((r) => r.worstAfter300)).toFixed(3)}`,
    );
    expect(runs[0].startPrice).toBeCloseTo((0.35 * BUDGET) / 15, 6);
    for (const r of runs) expect(r.spend).toBeLessThanOrEqual(1.01 * BUDGET);
    expect(q).toBeGreaterThanOrEqual(0.995 * LP);
  });

  it('no start price when the unpriced choices keep to the limit, or when no price can', () => {
    const policy = (limit: number) => linucbWithBudget(limit, REGISTRY);
    const x = [Float64Array.from([1, 0, 0])];
    expect(budgetStartPrices(policy(25).runtime, x)).toEqual({});
    // Even the cheapest model (1 per query) is over a limit of 0.5.
    expect(budgetStartPrices(policy(0.5).runtime, x)).toEqual({});
  });

  it('a started price moves by the relative overspend: μ₀·exp(k_r·e), down toward 0 when nothing is spent', () => {
    const policy = linucbWithBudget(5);
    startBudgetAt(policy.runtime, { costUsdPerRequest: 8 });
    const x = Float64Array.from([1, 0, 0]);
    for (let i = 0; i < 90; i++) policy.observe([0], x, i, [{ quality: 1, costUsd: 0, energyJ: 0 }]);
    const s = budgetStandings(policy.runtime.policy, policy.runtime.stats)[0];
    // e = (0 − 5·90)/(5·(90 + 10)) = −0.9.
    expect(s.startPrice).toBe(8);
    expect(s.price).toBeCloseTo(8 * Math.exp(-0.9 * STARTED_BUDGET_GAIN), 12);
    for (let i = 0; i < 10; i++) policy.observe([2], x, i, [{ quality: 1, costUsd: 60, energyJ: 0 }]);
    // S = 600, b·N = 500: e = 100/550, over the limit: above μ₀.
    const over = budgetStandings(policy.runtime.policy, policy.runtime.stats)[0].price;
    expect(over).toBeGreaterThan(8);
    expect(over / (8 * Math.exp((STARTED_BUDGET_GAIN * 100) / 550))).toBeCloseTo(1, 12);
  });

  it('a started price is at least k_p·(e − 0.03): a μ₀ far too low cannot leave a large overspend', () => {
    const policy = linucbWithBudget(5);
    startBudgetAt(policy.runtime, { costUsdPerRequest: 1e-6 });
    const x = Float64Array.from([1, 0, 0]);
    // 100 requests at 5.6 each: S − b·N = 60, e = 60/(5·110).
    for (let i = 0; i < 100; i++) policy.observe([1], x, i, [{ quality: 1, costUsd: 5.6, energyJ: 0 }]);
    const e = 60 / 550;
    const s = budgetStandings(policy.runtime.policy, policy.runtime.stats)[0];
    expect(s.price).toBeCloseTo(DEFAULT_BUDGET_GAIN * (e - STARTED_PRICE_SLACK), 12);
    expect(s.price).toBeGreaterThan(1e-6 * Math.exp(STARTED_BUDGET_GAIN * e));
  });

  it('started at a μ₀ off by 2x either way: the worst running mean from request 300 within +3 %, quality ≥ 0.99 × LP', () => {
    for (const scale of [0.5, 2]) {
      const runs = Array.from({ length: SEEDS }, (_, s) => run(s, true, undefined, true, scale));
      const q = runs.reduce((a, r) => a + r.quality, 0) / SEEDS;
      const worst = Math.max(...runs.map((r) => r.worstAfter300));
      console.log(
        `K1 started at ${scale}·μ₀ (k_r ${STARTED_BUDGET_GAIN}): quality ${((q / LP) * 100).toFixed(2)} % of LP, worst running mean after 300 ${worst.toFixed(3)}`,
      );
      // observed: 0.5·μ₀ 100.22 % at 5.138, 2·μ₀ 99.74 % at 4.959
      expect(worst).toBeLessThanOrEqual(1.03 * BUDGET);
      expect(q).toBeGreaterThanOrEqual(0.99 * LP);
    }
  });

  it('started at a μ₀ a hundred times too low: the additive guard beyond +3 % bounds the overspend', () => {
    const runs = Array.from({ length: SEEDS }, (_, s) => run(s, true, undefined, true, 0.01));
    const spend = Math.max(...runs.map((r) => r.spend));
    const worst = Math.max(...runs.map((r) => r.worstAfter300));
    console.log(`K1 started at 0.01·μ₀: spend max ${spend.toFixed(3)}, worst running mean after 300 ${worst.toFixed(3)}`);
    // observed: spend max 5.171, worst running mean 5.222; without the guard the offset would be ln(100)/k_r = 11.5 %.
    expect(spend).toBeLessThanOrEqual(1.05 * BUDGET);
  });
});
