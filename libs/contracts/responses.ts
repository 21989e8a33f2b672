import { z } from 'zod';
import { type EventAck } from './events.js';
import { decisionFeatureSourceSchema } from './feature-space.js';
import { keyLimitsSchema, SCOPES } from './keys.js';
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
  featureFallbackReason: z.enum(['timeout', 'error', 'config']).optional(),
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
export const modelWithBreakerSchema = modelResponseSchema.extend({ breaker: breakerSchema });
export const modelListSchema = z.object({ models: z.array(modelWithBreakerSchema) });

export const policyResponseSchema = policyConfigSchema.safeExtend({
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
export const modelsListSchema = z.object({
  object: z.literal('list'),
  data: z.array(z.object({ id: z.string(), object: z.literal('model'), created: z.int(), owned_by: z.string() })),
});

// Compile-time: the schemas and the interfaces describe the same answers (either direction assignable).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(_: T) => undefined;
same<Same<z.infer<typeof routeResponseSchema>, RouteResponse>>(true);
same<Same<z.infer<typeof eventAckSchema>, EventAck>>(true);
same<Same<z.output<typeof modelResponseSchema>, Model>>(true);
