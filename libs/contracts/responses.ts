import { z } from 'zod';
import { type ContinueResponse } from './cascade.js';
import { evaluateRequestSchema, frontierRequestSchema } from './evaluation.js';
import { type EventAck } from './events.js';
import { decisionFeatureSourceSchema, embeddingFallbackReasonSchema } from './feature-space.js';
import { keyLimitsSchema, SCOPES } from './keys.js';
import { finite } from './finite.js';
import { type Model, modelConfigSchema } from './model.js';
import { policyConfigSchema } from './policy.js';
import { type RouteResponse } from './route.js';

/**
 * Response bodies as zod schemas: what the OpenAPI document describes and the typed client (libs/client) parses
 * its answers with. Where a TypeScript interface of the same answer exists, a compile-time check below keeps the
 * two equal.
 */

export const routeScoreSchema = z.object({
  model: z.string(),
  score: z.number(),
  quality: z.number(),
  bonus: z.number(),
  energyJoules: z.number(),
  costUsd: z.number(),
  latencyMs: z.number(),
});

export const routeResponseSchema = z.object({
  decisionId: z.string(),
  policy: z.string(),
  policyVersion: z.int(),
  algorithm: z.string(),
  model: z.string().describe('the chosen model (the first of `models`)'),
  models: z.array(z.string()).describe('one model, or the two of a duel'),
  propensity: z.number().describe('probability with which this choice was made'),
  scores: z.array(routeScoreSchema),
  featureSource: decisionFeatureSourceSchema,
  featureFallbackReason: embeddingFallbackReasonSchema.optional(),
});

export const continueResponseSchema = z.object({
  decisionId: z.string().describe("send the final answer's feedback here (it teaches the escalation policy and the router); continue from here"),
  policy: z.string().describe('the escalation policy that decided (or the router, when nothing else could be called)'),
  action: z.enum(['accept', 'escalate']),
  model: z.string().describe('accept: the model whose answer stands; escalate: the model to call now'),
  answered: z.string().describe('the model whose answer was examined'),
  step: z.int().describe('models called for this request, counting `model` when escalating'),
  propensity: z.number(),
  reason: z.enum(['learned', 'max-steps', 'no-dearer-model']),
});

export const eventAckSchema = z.object({ eventId: z.string(), status: z.enum(['accepted', 'duplicate', 'late']) });

export const batchAckSchema = z.object({
  results: z.array(
    z.union([
      eventAckSchema,
      z.object({
        index: z.int(),
        status: z.literal('rejected'),
        problem: z.object({ status: z.int(), detail: z.string(), errors: z.array(z.object({ path: z.string(), message: z.string() })) }),
      }),
    ]),
  ),
});

export const keyResponseSchema = z.object({
  id: z.string(),
  name: z.string(),
  scope: z.enum(SCOPES),
  policies: z.array(z.string()).nullable(),
  limits: keyLimitsSchema.nullable().optional(),
  createdAt: z.string().describe('ISO 8601'),
  revokedAt: z.string().nullable(),
});
export const createdKeySchema = keyResponseSchema.extend({ secret: z.string().describe('shown once; only its hash is stored') });
export const keyListSchema = z.object({ keys: z.array(keyResponseSchema) });

export const modelResponseSchema = modelConfigSchema.extend({ id: z.string() });
const breakerSchema = z.looseObject({ state: z.string() }).describe("the model's circuit breaker (shared by all replicas)");
export const modelWithBreakerSchema = modelResponseSchema.extend({
  breaker: breakerSchema,
  embeddingsBreaker: breakerSchema.optional().describe("its embeddings calls' own breaker, once one of those has failed"),
});
export const modelListSchema = z.object({ models: z.array(modelWithBreakerSchema) });

export const policyResponseSchema = policyConfigSchema.safeExtend({
  // As stored: a policy stored before scales had their lower bound still parses (it is served at the bound).
  scales: z.strictObject({ energy: finite().gt(0).optional(), cost: finite().gt(0).optional(), latency: finite().gt(0).optional() }).optional(),
  name: z.string(),
  version: z.int().describe('bumped by every change'),
  epoch: z.int().describe('bumped when the learning state starts over'),
  updatedAt: z.string(),
  prior: z.looseObject({ installedAt: z.string(), records: z.int() }).optional(),
  budgetSince: z.looseObject({ epoch: z.int() }).optional(),
});
/** PUT /admin/policies/{name}: the stored policy, and warnings about arms the proxy cannot call or will skip. */
export const policyPutResponseSchema = policyResponseSchema.safeExtend({ warnings: z.array(z.string()).optional() });
export const policyListSchema = z.object({ policies: z.array(policyResponseSchema) });

const meanCount = z.object({ mean: z.number().nullable(), count: z.number() });
export const policyStatsSchema = z.looseObject({
  policy: z.string(),
  version: z.int(),
  epoch: z.int(),
  decisions: z.number(),
  feedback: z.number(),
  energyReadings: z.number(),
  arms: z.array(
    z.looseObject({
      model: z.string(),
      pulls: z.number(),
      share: z.number(),
      quality: meanCount,
      energyJoules: meanCount,
      costUsd: meanCount,
      latencyMs: meanCount,
    }),
  ),
});

export const auditTrailSchema = z.object({
  audit: z.array(z.object({ id: z.string(), action: z.string(), actor: z.string(), before: z.unknown(), after: z.unknown(), at: z.string() })),
});

export const rebuildResponseSchema = z.object({ policy: z.string(), epoch: z.int(), eventsReplayed: z.int(), decisions: z.int(), events: z.int() });

export const healthSchema = z.looseObject({ status: z.string() });

/** GET /v1/models, in OpenAI's list format: `router/<policy>` entries, then the models the key may call directly. */
/** One entry of `GET /v1/models` (and `GET /v1/models/{id}`). */
export const modelEntrySchema = z.object({ id: z.string(), object: z.literal('model'), created: z.int(), owned_by: z.string() });
export const modelsListSchema = z.object({
  object: z.literal('list'),
  data: z.array(modelEntrySchema),
});

/** An off-policy estimate of one head, with its 95% interval. */
export const headEstimateSchema = z.object({ estimate: z.number(), ci95: z.tuple([z.number(), z.number()]) });
/** The candidate's estimate of one head, with the three estimators it combines and the decisions it rests on. */
export const candidateHeadEstimateSchema = headEstimateSchema.extend({
  ips: z.number(),
  snips: z.number(),
  dr: z.number(),
  n: z.number().describe('decisions with a realised value of this head'),
  effectiveSampleSize: z.number(),
});
/** Per head, named as in stats (null: no decision of the window had a realised value of it). */
const heads = <T extends z.ZodType>(s: T) => z.object({ quality: s.nullable(), energyJoules: s.nullable(), costUsd: s.nullable(), latencyMs: s.nullable() });
const loggedHeadsSchema = heads(headEstimateSchema);
const candidateHeadsSchema = heads(candidateHeadEstimateSchema).extend({
  shares: z.record(z.string(), z.number()).describe("per model, the candidate's share of the decisions"),
});

/** POST /admin/policies/{name}/evaluate: the logged policy's and the candidate's estimates on the logged decisions. */
export const evaluationResponseSchema = z.object({
  policy: z.string(),
  changes: evaluateRequestSchema.shape.candidate.describe("the candidate evaluated (the request's, defaults applied)"),
  n: z.number().describe('logged decisions evaluated'),
  effectiveSampleSize: z.number(),
  logged: loggedHeadsSchema,
  candidate: candidateHeadsSchema,
  warnings: z.array(z.string()),
});

/** POST /admin/policies/{name}/frontier: one candidate estimate per value of the weight. */
export const frontierResponseSchema = z.object({
  policy: z.string(),
  weight: frontierRequestSchema.shape.weight,
  current: z.number().describe("the live policy's value of the weight"),
  logged: loggedHeadsSchema.nullable().describe('null when no point was evaluated'),
  points: z.array(
    z.object({ value: z.number(), n: z.number(), effectiveSampleSize: z.number(), candidate: candidateHeadsSchema, warnings: z.array(z.string()) }),
  ),
});

/** One bucket of one model in GET /admin/policies/{name}/timeseries. */
export const timeseriesPointSchema = z.object({
  bucket: z.string().describe('start of the bucket, ISO 8601'),
  model: z.string(),
  decisions: z.number(),
  feedback: z.number(),
  meanReward: z.number().nullable(),
  feedbackLagMs: z.number().nullable().describe('mean time from a decision to its first learned feedback'),
  energyReadings: z.number(),
  energyJoules: z.number().nullable(),
  costUsd: z.number().nullable(),
  latencyMs: z.number().nullable(),
  fallbacks: z.number().describe('proxied calls answered by another model than the one decided'),
});
export const timeseriesResponseSchema = z.object({
  policy: z.string(),
  from: z.string(),
  to: z.string(),
  bucket: z.string(),
  points: z.array(timeseriesPointSchema),
});

/** A model-level energy reading (GET /admin/energy-readings). */
export const energyReadingSchema = z.object({
  id: z.string().describe('the stored id: `<owner>|<eventId>`'),
  eventId: z.string(),
  owner: z.string().nullable(),
  model: z.string(),
  joules: z.number(),
  inputTokens: z.number().nullable(),
  outputTokens: z.number(),
  joulesPerOutputToken: z.number(),
  gpu: z.string().nullable(),
  receivedAt: z.string(),
});
export const energyReadingListSchema = z.object({ readings: z.array(energyReadingSchema) });
export const energyReadingRemovedSchema = z.object({ id: z.string(), model: z.string(), status: z.literal('removed') });

/** An event the worker set aside because Postgres refused its data (GET /admin/dead-letters). */
export const deadLetterSchema = z.object({
  id: z.number(),
  kind: z.string(),
  eventId: z.string().nullable(),
  decisionId: z.string().nullable(),
  policy: z.string().nullable(),
  error: z.string(),
  payload: z.unknown().describe('the event as received'),
  at: z.string(),
});
export const deadLetterListSchema = z.object({ deadLetters: z.array(deadLetterSchema) });

/** One model's line of GET /admin/keys/{id}/usage (cost and energy null when no call had one). */
export const keyModelUsageSchema = z.object({
  model: z.string(),
  requests: z.number(),
  failed: z.number().describe('calls every attempt of which failed'),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number().nullable(),
  energyJoules: z.number().nullable(),
});
export const keyUsageResponseSchema = z.object({
  key: z.object({ id: z.string(), name: z.string() }),
  from: z.string(),
  to: z.string(),
  models: z.array(keyModelUsageSchema),
  total: keyModelUsageSchema.omit({ model: true }),
});

/**
 * POST /v1/chat/completions (not streaming): the upstream's OpenAI chat.completion object, relayed as it came
 * except `model`, which names the router's model id. Loose: upstreams add fields of their own.
 */
export const chatCompletionSchema = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.int(),
  model: z.string(),
  choices: z.array(
    z.looseObject({
      index: z.int(),
      message: z.looseObject({ role: z.literal('assistant'), content: z.string().nullable() }),
      finish_reason: z.string().nullable(),
    }),
  ),
  usage: z.looseObject({ prompt_tokens: z.int(), completion_tokens: z.int(), total_tokens: z.int() }).optional(),
});

/**
 * POST /v1/embeddings: the upstream's OpenAI embeddings list, relayed as it came except `model`, which names the
 * registry model. Loose: upstreams add fields of their own.
 */
export const embeddingsResponseSchema = z.looseObject({
  object: z.literal('list'),
  data: z.array(z.looseObject({ object: z.literal('embedding'), index: z.int(), embedding: z.union([z.array(z.number()), z.string()]) })),
  model: z.string(),
  usage: z.looseObject({ prompt_tokens: z.int(), total_tokens: z.int() }).optional(),
});

// Compile-time: the schemas and the interfaces describe the same answers (either direction assignable).
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** `same<Same<A, B>>(true)` fails to compile unless A and B are the same type (checks of other layers use it too). */
export const same = <T extends true>(_: T) => undefined;
same<Same<z.infer<typeof routeResponseSchema>, RouteResponse>>(true);
same<Same<z.infer<typeof eventAckSchema>, EventAck>>(true);
same<Same<z.infer<typeof continueResponseSchema>, ContinueResponse>>(true);
same<Same<z.output<typeof modelResponseSchema>, Model>>(true);
