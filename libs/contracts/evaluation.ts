import { z } from 'zod';
import { finite } from './finite.js';
import { instant } from './instant.js';
import { budgetSchema, objectivePatchSchema } from './policy.js';

/** What an evaluated candidate changes of the live policy: weights, exploration, a budget. */
const candidateSchema = z.strictObject({
  objective: objectivePatchSchema.optional(),
  params: z
    .strictObject({
      alpha: finite().min(0).max(100).optional(),
      epsilon: finite().min(0).max(1).optional(),
      budgetGain: finite().gt(0).max(1000).optional(),
      budgetStartGain: finite().gt(0).max(1000).optional(),
    })
    .optional(),
  budget: budgetSchema.nullable().optional(),
});

const window = {
  /** Logged decisions from (default: 7 days before `until`) … */
  since: instant('since').optional(),
  /** … until (default: now). */
  until: instant('until').optional(),
  /** Newest decisions of the window evaluated at most. */
  limit: z.int().min(1).max(50_000).default(20_000),
};

export const evaluateRequestSchema = z.strictObject({ candidate: candidateSchema.default({}), ...window });
export type EvaluateRequest = z.infer<typeof evaluateRequestSchema>;

export const frontierRequestSchema = z.strictObject({
  weight: z.enum(['quality', 'energy', 'cost', 'latency']),
  values: z.array(finite().min(0).max(1000)).min(1).max(20),
  candidate: candidateSchema.default({}),
  ...window,
});
export type FrontierRequest = z.infer<typeof frontierRequestSchema>;

const BUCKETS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '6h': 21_600, '1d': 86_400 } as const;
/** At most this many buckets per series (a longer window needs a coarser bucket). */
export const MAX_TIMESERIES_BUCKETS = 2000;

export const timeseriesQuerySchema = z
  .strictObject({
    from: instant('from').optional(),
    to: instant('to').optional(),
    bucket: z.enum(Object.keys(BUCKETS) as [keyof typeof BUCKETS, ...(keyof typeof BUCKETS)[]]).default('1m'),
  })
  .transform((q, ctx) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 86_400_000);
    const bucketSeconds = BUCKETS[q.bucket];
    if (!(from < to)) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
    else if ((to.getTime() - from.getTime()) / 1000 / bucketSeconds > MAX_TIMESERIES_BUCKETS)
      ctx.addIssue({ code: 'custom', path: ['bucket'], message: `more than ${MAX_TIMESERIES_BUCKETS} buckets: choose a coarser bucket or a shorter window` });
    return { from, to, bucket: q.bucket, bucketSeconds };
  });

/** POST /admin/policies/{name}/objective/revert: undo the objective change of one audit entry. */
export const revertRequestSchema = z.strictObject({
  // A Postgres bigint: digits only, at most 2⁶³ − 1 (a larger one would be refused by Postgres, not by us).
  auditId: z.string().refine((v) => /^[1-9][0-9]{0,18}$/.test(v) && BigInt(v) <= 9_223_372_036_854_775_807n, 'an audit entry id'),
});
