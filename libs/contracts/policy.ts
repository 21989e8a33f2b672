import { z } from 'zod';
import { POLICY_ALGORITHMS } from '@app/bandits';
import { cascadeConfigSchema } from './cascade.js';
import { finite, id } from './finite.js';
import { type PolicyPrior } from './prior.js';

const weight = () => finite().min(0).max(1000);
export const objectiveSchema = z.strictObject({
  quality: weight().default(1),
  energy: weight().default(0),
  cost: weight().default(0),
  latency: weight().default(0),
});
export const objectivePatchSchema = z
  .strictObject({ quality: weight(), energy: weight(), cost: weight(), latency: weight() })
  .partial()
  .refine((o) => Object.keys(o).length > 0, 'give at least one of quality, energy, cost, latency');

/** Mean spend per request the router paces to (ALGORITHMS.md §10a): one dual price per limit. */
/**
 * The smallest scale of a unit: a penalty is weight × estimate ÷ scale, and a scale near the smallest double makes it
 * infinite, a decision with no finite score. Policies stored before this bound are served with their scales raised
 * to it (objectiveScales).
 */
export const MIN_SCALE = 1e-9;
export const budgetSchema = z
  .strictObject({
    // From the smallest scale of a unit up: the price divides by the limit.
    costUsdPerRequest: finite().min(MIN_SCALE).max(1000).optional(),
    energyJoulesPerRequest: finite().min(MIN_SCALE).max(1e7).optional(),
  })
  .refine((b) => b.costUsdPerRequest !== undefined || b.energyJoulesPerRequest !== undefined, 'give costUsdPerRequest and/or energyJoulesPerRequest');
export type Budget = z.infer<typeof budgetSchema>;
/** PATCH /admin/policies/{name}/budget: a budget, or null to remove it. */
export const budgetPatchSchema = z.strictObject({ budget: budgetSchema.nullable() });

/** Fixed units of the penalised heads: a weight of 1 trades one unit of quality (0..1) against one of these. */
export const scalesSchema = z.strictObject({
  energy: finite().min(MIN_SCALE).max(1e9).optional(),
  cost: finite().min(MIN_SCALE).max(1e4).optional(),
  latency: finite().min(MIN_SCALE).max(1e7).optional(),
});

/**
 * Largest arms × dim² of a policy: its learnt state (a d×d matrix per arm), each decision (a quadratic form per
 * arm), each replica's recompile and each rebuild grow with it, and a tenant's traffic on one policy far beyond it
 * (64 arms at dim 512: 134 MB of state, ~50 ms of the api's thread per route, rebuild pages of seconds) slows every
 * other tenant. 16 arms at dim 512, or 64 at dim 256.
 */
export const MAX_STATE_VALUES = 16 * 512 ** 2;

/** Algorithms whose choice ignores the scalarised scores, so a budget's price cannot steer them. */
export const UNPACED_ALGORITHMS: readonly string[] = ['fgts-cdb', 'random'];

export const policyConfigSchema = z
  .strictObject({
    // The algorithms' own list (bandits implements them and imports nothing from contracts).
    algorithm: z.enum(POLICY_ALGORITHMS),
    arms: z.array(id('arm')).min(1).max(64),
    params: z
      .strictObject({
        alpha: finite().min(0).max(100).optional(),
        ridge: finite().gt(0).max(1e6).optional(),
        epsilon: finite().min(0).max(1).optional(),
        expectedInputTokens: finite().min(0).max(1e7).optional(),
        expectedOutputTokens: finite().min(0).max(1e7).optional(),
        priorWeight: finite().min(0).max(1e6).optional(),
        propensityDraws: z.int().min(0).max(10_000).optional(),
        budgetGain: finite().gt(0).max(1000).optional(),
        budgetStartGain: finite().gt(0).max(1000).optional(),
      })
      .default({}),
    objective: objectiveSchema.default({ quality: 1, energy: 0, cost: 0, latency: 0 }),
    scales: scalesSchema.optional(),
    budget: budgetSchema.nullable().optional(),
    /** Answer, look at the answer, escalate when it pays (see cascade.ts); null or absent: no cascade. */
    cascade: cascadeConfigSchema.nullable().optional(),
    features: z
      .strictObject({
        source: z.enum(['builtin', 'caller', 'embeddings']).default('builtin'),
        dim: z.int().min(1).max(512).default(64),
        /** `embeddings`: the registered model (with a baseUrl) whose OpenAI-compatible /embeddings embeds each request's text. */
        model: id('model').optional(),
        /** `builtin`: the featurizer version the statistics were learnt with. Set by the service (any value sent is replaced). */
        version: z.int().min(1).max(1000).optional(),
      })
      .refine((f) => f.source !== 'builtin' || f.dim >= 32, { message: 'builtin features need dim >= 32', path: ['dim'] })
      .refine((f) => f.source !== 'embeddings' || f.dim >= 2, { message: 'embeddings features need dim >= 2 (the bias and a projected slot)', path: ['dim'] })
      .refine((f) => (f.source === 'embeddings') === (f.model !== undefined), {
        message: 'embeddings features need model (a registered model id); other sources take none',
        path: ['model'],
      })
      .default({ source: 'builtin', dim: 64 }),
    feedback: z
      .strictObject({
        windowSeconds: z
          .int()
          .min(1)
          .max(90 * 86400)
          .default(86400),
        defaultReward: finite().min(0).max(1).nullable().default(null),
        aggregation: z.enum(['earliest', 'all']).default('earliest'),
      })
      .default({ windowSeconds: 86400, defaultReward: null, aggregation: 'earliest' }),
  })
  .refine((p) => new Set(p.arms).size === p.arms.length, { message: 'arms must be distinct', path: ['arms'] })
  .refine((p) => p.arms.length * p.features.dim ** 2 <= MAX_STATE_VALUES, {
    message: `a policy's learnt state holds arms × dim² values, at most ${MAX_STATE_VALUES} (16 arms at dim 512, 64 at dim 256): fewer arms or a smaller dim`,
    path: ['features', 'dim'],
  })
  .refine((p) => !p.cascade || (p.arms.length >= 2 && p.algorithm !== 'fgts-cdb'), {
    message: 'a cascade needs at least two arms and a policy that decides single models (not fgts-cdb)',
    path: ['cascade'],
  })
  .superRefine((p, ctx) => {
    const why = p.budget ? budgetRefused(p) : null;
    if (why) ctx.addIssue({ code: 'custom', message: why, path: ['budget'] });
  });

/**
 * Why a policy cannot carry a budget, or null when it can: the one rule for a PUT, a PATCH of the budget and an
 * evaluated candidate's budget.
 */
export function budgetRefused(p: { algorithm: string; cascade?: unknown }): string | null {
  if (p.cascade) return 'a budget paces the spend per routed call; with a cascade a request makes several: not both (use cost weights)';
  if (UNPACED_ALGORITHMS.includes(p.algorithm)) return 'fgts-cdb and random choose without the scores a budget prices: no budget on them';
  return null;
}

export type PolicyConfig = z.infer<typeof policyConfigSchema>;
export type Objective = z.infer<typeof objectiveSchema>;

/** Spend totals (Σ value, observations) of the energy and cost heads over every arm: what a budget paces. */
export interface SpendTotals {
  energy: { sum: number; count: number };
  cost: { sum: number; count: number };
}

export interface Policy extends PolicyConfig {
  /** PILOT warm start installed with POST /admin/policies/{name}/prior (kept across PUT for arms still present). */
  prior?: PolicyPrior;
  /**
   * The learning state's spend totals when the budget was set, in that epoch: a budget paces the spend since then.
   * Set by the service whenever the budget changes; absent = since the epoch began. `startPrices`: the dual price
   * each limit starts from (budgetStartPrices), absent = 0.
   */
  budgetSince?: SpendTotals & { epoch: number; startPrices?: Partial<Record<keyof Budget, number>> };
  name: string;
  version: number;
  epoch: number;
  updatedAt: string;
}
