import { z } from 'zod';
import { POLICY_ALGORITHMS } from '@app/bandits';
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
      })
      .default({}),
    objective: objectiveSchema.default({ quality: 1, energy: 0, cost: 0, latency: 0 }),
    features: z
      .strictObject({ source: z.enum(['builtin', 'caller']).default('builtin'), dim: z.int().min(1).max(512).default(64) })
      .refine((f) => f.source !== 'builtin' || f.dim >= 32, { message: 'builtin features need dim >= 32', path: ['dim'] })
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
  .refine((p) => new Set(p.arms).size === p.arms.length, { message: 'arms must be distinct', path: ['arms'] });

export type PolicyConfig = z.infer<typeof policyConfigSchema>;
export type Objective = z.infer<typeof objectiveSchema>;

export interface Policy extends PolicyConfig {
  /** PILOT warm start installed with POST /admin/policies/{name}/prior (kept across PUT for arms still present). */
  prior?: PolicyPrior;
  name: string;
  version: number;
  epoch: number;
  updatedAt: string;
}
