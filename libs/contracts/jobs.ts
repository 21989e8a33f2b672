import { z } from 'zod';
import { decisionCascadeSchema } from './cascade.js';
import { decisionFeatureSourceSchema } from './feature-space.js';
import { finite } from './finite.js';

/**
 * Queue contracts: what one item of each kind carries. The API writes these; the worker re-parses every job with
 * the same schemas (a job is data from another process). How each kind travels is in job-kinds.ts.
 */
export const QUEUE_NAME = 'router-events';

/** One arm's estimates in a decision record: a flat object of strings and finite numbers. */
export const isArmEstimates = (v: unknown): v is Record<string, string | number> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const value of Object.values(v)) if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) return false;
  return true;
};

/** A decision as recorded at route time (also the Redis hot copy joined by feedback). */
export const decisionRecordSchema = z.object({
  id: z.string(),
  policy: z.string(),
  epoch: z.int(),
  policyVersion: z.int(),
  arm: z.string(),
  armIndex: z.int(),
  propensity: finite(),
  x: z.array(finite()),
  owner: z.string(),
  mode: z.string(),
  /** A duel's two models (arms[0] = arm). */
  arms: z.array(z.string()).optional(),
  // Checked as a whole per arm: ~16 arms × 8 values a decision, which a record of unions parsed value by value
  // (~24 µs a decision, the larger part of a decisions job's parse).
  estimates: z.array(z.custom<Record<string, string | number>>(isArmEstimates, 'must be an object of strings and finite numbers')),
  createdAt: z.int(),
  /** Where `x` came from (absent in records written before it existed: the policy's source). */
  featureSource: decisionFeatureSourceSchema.optional(),
  /**
   * The policy's pick when a fallback answered instead (the proxy records the decision as the answering model's,
   * `arm`, so that everything learnt from the answer goes to it); `propensity` stays the pick's.
   */
  fallbackFrom: z.string().optional(),
  /** A decision of an escalation policy: its place in the cascade (see cascade.ts). */
  cascade: decisionCascadeSchema.optional(),
});
export type DecisionRecord = z.infer<typeof decisionRecordSchema>;
/** A decision without its context: what checks an event against its decision (owner, policy, mode, cascade). */
export type DecisionHead = Omit<DecisionRecord, 'x'>;

/** Feedback on a single decision: a thumb (0 or 1) or a reward in [0, 1]. */
export const pointwiseFeedbackJobSchema = z.object({
  eventId: z.string(),
  decisionId: z.string(),
  reward: finite().min(0).max(1),
  winner: z.undefined().optional(),
  receivedAt: z.int(),
});
export type PointwiseFeedbackJob = z.infer<typeof pointwiseFeedbackJobSchema>;

/** A duel's outcome: the winning model or "tie"; `reward` is then P(arms[0] won). */
export const pairwiseFeedbackJobSchema = z.object({
  eventId: z.string(),
  decisionId: z.string(),
  reward: finite().min(0).max(1),
  winner: z.string(),
  receivedAt: z.int(),
});
export type PairwiseFeedbackJob = z.infer<typeof pairwiseFeedbackJobSchema>;

/** A feedback job: pointwise, or pairwise when it names a winner (discriminated by `winner`). */
export const feedbackJobSchema = z.union([pointwiseFeedbackJobSchema, pairwiseFeedbackJobSchema]);
export type FeedbackJob = z.infer<typeof feedbackJobSchema>;

export const energyJobSchema = z.object({
  eventId: z.string(),
  decisionId: z.string().optional(),
  model: z.string().optional(),
  joules: finite(),
  inputTokens: z.int().optional(),
  outputTokens: z.int().optional(),
  latencyMs: finite().optional(),
  gpu: z.string().optional(),
  measuredAt: z.string().optional(),
  receivedAt: z.int(),
});
export type EnergyJob = z.infer<typeof energyJobSchema>;

/**
 * What a proxied call measured: feeds the decision's cost and latency heads (ALGORITHMS.md §0). A direct model
 * call (no routing) has no `decisionId`: it is stored for spend reports and nothing is learnt from it.
 */
export const usageJobSchema = z.object({
  eventId: z.string(),
  decisionId: z.string().optional(),
  /** The key that made the call (absent in jobs of earlier versions). */
  keyId: z.string().optional(),
  /** The model that finally answered (a fallback may differ from the decision's first choice). */
  model: z.string(),
  /**
   * False when every attempt failed, or a stream ended early (its tokens are then what was forwarded): the row keeps
   * the attempts, no head learns from it.
   */
  answered: z.boolean(),
  inputTokens: z.int().min(0),
  outputTokens: z.int().min(0),
  costUsd: finite().min(0).nullable(),
  /** J per output token (registry) × output tokens: the decision's energy until a measured reading arrives. */
  energyEstimateJ: finite().min(0).nullable().optional(),
  latencyMs: finite().min(0),
  ttftMs: finite().min(0).nullable(),
  attempts: z.array(z.object({ model: z.string(), ok: z.boolean(), status: z.int().nullable(), error: z.string().nullable(), ms: finite() })),
  receivedAt: z.int(),
  /** W3C trace context of the proxied request (the worker's span continues the trace). */
  trace: z.record(z.string(), z.string()).optional(),
});
export type UsageJob = z.infer<typeof usageJobSchema>;

/** The event id of a decision's usage event: the service's own id, so a decision has at most one. */
export const usageEventId = (decisionId: string) => `usage:${decisionId}`;
/** The event id of a direct call's usage event (`callId`: random, made by the api; no `|`, like every service id). */
export const directUsageEventId = (callId: string) => `usage:direct:${callId}`;
