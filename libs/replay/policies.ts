import { type AlgorithmParams, headIndex, type ObjectiveWeights, type PolicyAlgorithm, recordDecision, recordObservation, type Rng } from '@app/bandits';
import { type Budget, type Model, type Policy, type PolicyPrior } from '@app/contracts';
import {
  armPriors,
  budgetStartPrices,
  buildRuntime,
  startBudgetAt,
  objectiveScales,
  decidePolicy,
  type DecisionMode,
  DuelRuntime,
  type LearnedRow,
  type PolicyDecision,
  type PolicyRuntime,
  recompileArms,
  type SequentialState,
  TrendRuntime,
} from '@app/learning';

/** What the replay reveals about a served model on one prompt (latency where a dataset has it). */
export interface Outcome {
  quality: number;
  costUsd: number;
  energyJ: number;
  latencyMs?: number;
}

export interface ReplayPolicyOptions {
  algorithm: PolicyAlgorithm;
  /** Model names, in the dataset's order (arm indices). */
  arms: readonly string[];
  dim: number;
  objective: ObjectiveWeights;
  params: Partial<AlgorithmParams>;
  /** Default: duels for fgts-cdb (the policy that learns from them), as `--via-http` routes it. */
  mode?: DecisionMode;
  /** The model registry the service would hold (prices, J/token): the per-request cost and energy priors. */
  models?: ReadonlyMap<string, Model>;
  /** A warm-start prior fitted as the service fits it (POST /admin/policies/{name}/prior). */
  prior?: PolicyPrior;
  /** The policy's expectedInputTokens / expectedOutputTokens (with `models`, the per-request priors). */
  expectedTokens?: { input: number; output: number };
  /** Mean spend per request to pace to, as a policy's `budget`. */
  budget?: Budget;
  /** Gain of the budget's dual price (policy params.budgetGain). */
  budgetGain?: number;
  /** Relative gain of a price started from the prior (policy params.budgetStartGain). */
  budgetStartGain?: number;
  /** Contexts the budget's start price is searched on (the prior's prompts, as the service's prior upload does); none: 0. */
  budgetStartContexts?: readonly Float64Array[];
}

const PARAM_KEYS = ['alpha', 'ridge', 'epsilon', 'propensityDraws'] as const;

/** Decision time of round t, ms: one round a second, so ti-ucb's τ is the round. */
export const roundTime = (t: number): number => t * 1000;

/**
 * The policy a replay would create in the service: schema defaults, the replay's parameters, and no Monte Carlo
 * propensity draws unless asked for (the replay never reads propensities).
 */
export function replayPolicy(o: ReplayPolicyOptions): Policy {
  const params: Policy['params'] = { propensityDraws: 0 };
  for (const k of PARAM_KEYS) if (o.params[k] !== undefined) params[k] = o.params[k];
  if (o.budgetGain !== undefined) params.budgetGain = o.budgetGain;
  if (o.budgetStartGain !== undefined) params.budgetStartGain = o.budgetStartGain;
  if (o.expectedTokens) {
    params.expectedInputTokens = o.expectedTokens.input;
    params.expectedOutputTokens = o.expectedTokens.output;
  }
  return {
    ...(o.prior ? { prior: o.prior } : {}),
    ...(o.budget ? { budget: o.budget } : {}),
    name: `replay-${o.algorithm}`,
    version: 1,
    epoch: 1,
    updatedAt: new Date(0).toISOString(),
    algorithm: o.algorithm,
    arms: [...o.arms],
    params,
    objective: { ...o.objective },
    features: { source: 'builtin', dim: o.dim },
    feedback: { windowSeconds: 86400, defaultReward: null, aggregation: 'earliest' },
  };
}

/**
 * A policy as the replay drives it: the service's runtime (compiled additive statistics, plus fgts-cdb's chains or
 * ti-ucb's windows) deciding through `decidePolicy`, the api's own decision function. What the replay keeps to
 * itself is the bookkeeping a replica gets from the worker: it adds decisions and observations to the arm
 * statistics directly and recompiles only the arms they touched before the next decision.
 */
export class ReplayPolicy {
  readonly runtime: PolicyRuntime;
  readonly sequential: SequentialState;
  readonly mode: DecisionMode;
  private readonly all: number[];
  private readonly dirty = new Set<number>();
  private readonly scratch: Float64Array;
  private events = 0;

  constructor(o: ReplayPolicyOptions) {
    const k = o.arms.length;
    const policy = replayPolicy(o);
    const models = o.models ?? new Map<string, Model>();
    this.runtime = buildRuntime(policy, new Map(), armPriors(policy, models, new Map()), 0, objectiveScales(policy, models));
    if (o.budget && o.budgetStartContexts?.length) startBudgetAt(this.runtime, budgetStartPrices(this.runtime, o.budgetStartContexts));
    this.mode = o.mode ?? (o.algorithm === 'fgts-cdb' && k >= 2 ? 'duel' : 'single');
    if (o.algorithm === 'fgts-cdb') this.sequential = { duel: new DuelRuntime(k, o.dim) };
    else if (o.algorithm === 'ti-ucb') this.sequential = { trend: new TrendRuntime(k) };
    else this.sequential = {};
    this.all = Array.from({ length: k }, (_, i) => i);
    this.scratch = new Float64Array(o.dim * o.dim);
  }

  /** The compiled runtime, with every change learnt so far (for decisions made outside decidePolicy). */
  compiled(): PolicyRuntime {
    if (this.dirty.size > 0) {
      recompileArms(this.runtime, this.dirty, this.scratch);
      this.dirty.clear();
    }
    return this.runtime;
  }

  /** The decision for context x at round t (two arms for a duel), over `candidates` (default: every arm). */
  choose(x: Float64Array, t: number, rng: Rng, candidates: readonly number[] = this.all): PolicyDecision {
    return decidePolicy(this.compiled(), this.sequential, { x, candidates, mode: this.mode, nowMs: roundTime(t) }, rng);
  }

  /** The decision is known to the policy at once (A at decision time, §13); a duel's two arms both count. */
  decided(arms: readonly number[], x: Float64Array): void {
    for (const a of arms) {
      recordDecision(this.runtime.stats[a], x);
      this.dirty.add(a);
    }
  }

  /**
   * Feedback on the decision of round t, possibly delayed, learnt as the worker learns the service's events: a
   * single decision's quality is a thumb; a duel's is only its preference P(arms[0] ≻ arms[1]); energy, cost and
   * latency are per served model. fgts-cdb and ti-ucb also get the event as a learned row.
   */
  observe(arms: readonly number[], x: Float64Array, t: number, outcomes: readonly Outcome[], preference?: number): void {
    const duel = arms.length === 2;
    arms.forEach((a, i) => {
      const o = outcomes[i];
      if (!o) return;
      const s = this.runtime.stats[a];
      if (!duel) recordObservation(s, x, headIndex.quality, o.quality);
      recordObservation(s, x, headIndex.energy, o.energyJ);
      recordObservation(s, x, headIndex.cost, o.costUsd);
      if (o.latencyMs !== undefined) recordObservation(s, x, headIndex.latency, o.latencyMs);
      this.dirty.add(a);
    });
    const row = { id: String(this.events++), x, arm: arms[0], createdAt: roundTime(t) };
    let learned: LearnedRow | null = null;
    if (duel && preference !== undefined) learned = { ...row, kind: 'pairwise', reward: preference, second: arms[1] };
    else if (!duel && outcomes.length > 0) learned = { ...row, kind: 'feedback', reward: outcomes[0].quality, second: null };
    if (learned) {
      this.sequential.duel?.add([learned]);
      this.sequential.trend?.add([learned]);
    }
  }
}
