import { z } from 'zod';
import { MAX_READING_JOULES } from './events.js';
import { feature, finite, id } from './finite.js';

export const MAX_PRIOR_RECORDS = 10_000;
export const MAX_PRIOR_WEIGHT = 200;
export const DEFAULT_PRIOR_WEIGHT = 100;
export const MAX_PRIOR_INPUT_CHARS = 100_000;

const context = {
  input: z.string().max(MAX_PRIOR_INPUT_CHARS).optional(),
  features: z.array(feature()).max(512).optional(),
};

/** Upper bound of a logged request's cost (USD). */
export const MAX_PRIOR_COST_USD = 1000;

/**
 * An offline outcome: how good `model` was on a prompt (0..1), and where the log has them, what that call cost,
 * the GPU energy it took and its latency (the heads they warm-start, beside quality).
 */
const scoreRecord = z.strictObject({
  ...context,
  model: id('model'),
  score: finite().min(0).max(1),
  costUsd: finite().min(0).max(MAX_PRIOR_COST_USD).optional(),
  energyJoules: finite().min(0).max(MAX_READING_JOULES).optional(),
  latencyMs: finite().min(0).max(86_400_000).optional(),
});
/** An offline preference: `preferred` beat `other` on a prompt, or they tied. */
const pairRecord = z
  .strictObject({ ...context, preferred: id('preferred'), other: id('other'), tie: z.boolean().optional() })
  .refine((r) => r.preferred !== r.other, { message: 'a preference is between two different models', path: ['other'] });

export const priorRequestSchema = z.strictObject({
  records: z
    .array(
      z.union([scoreRecord, pairRecord], {
        error: 'a record is either a score (`model`, `score`) or a preference (`preferred`, `other`): one of the two, not both',
      }),
    )
    .min(1)
    .max(MAX_PRIOR_RECORDS),
  /** Cap on the pseudo-observations an arm's prior is worth (ALGORITHMS.md §3: 50–200). */
  maxWeight: finite().gt(0).max(MAX_PRIOR_WEIGHT).default(DEFAULT_PRIOR_WEIGHT),
  /**
   * Add these records to the ones uploaded since the last replace and refit over all of them (a prior larger than
   * one call's limit is uploaded in several calls); without it the call replaces them.
   */
  append: z.boolean().default(false),
});
export type PriorRequest = z.infer<typeof priorRequestSchema>;

type MeasuredHeadName = 'energy' | 'cost' | 'latency';

/** One arm's warm start: θ⁰, its weight and records; the fitted heads' coefficients and the records' means of them. */
export interface PolicyArmPrior {
  theta: number[];
  weight: number;
  records: number;
  heads?: Partial<Record<MeasuredHeadName, number[]>>;
  means?: Partial<Record<MeasuredHeadName, number>>;
}

/**
 * Installed on a policy: per arm θ⁰ and the pseudo-observations it is worth (A += w·I, b += w·θ⁰), and the fits of
 * the other heads the records measured (`heads.cost`, …), which the live fits are blended with by count.
 */
export interface PolicyPrior {
  installedAt: string;
  records: number;
  arms: Record<string, PolicyArmPrior>;
}

/** One arm's prior, looked up as an own property (a model may be named `constructor` or `toString`). */
export const armPrior = (prior: PolicyPrior | null | undefined, arm: string): PolicyPrior['arms'][string] | undefined =>
  prior && Object.hasOwn(prior.arms, arm) ? prior.arms[arm] : undefined;
