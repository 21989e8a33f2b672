import { z } from 'zod';
import { type DecisionFeatureSource, type EmbeddingFallbackReason } from './feature-space.js';
import { feature, finite, id } from './finite.js';

/** An OpenAI-style chat message (content: text, parts, or null). */
export const chatMessageSchema = z.looseObject({
  role: z.string().min(1).max(32),
  content: z.union([z.string().max(1_000_000), z.array(z.unknown()).max(1000), z.null()]),
});

export const routeRequestSchema = z
  .strictObject({
    policy: id('policy'),
    input: z.string().max(1_000_000).optional(),
    messages: z.array(chatMessageSchema).min(1).max(1000).optional(),
    features: z.array(feature()).min(1).max(512).optional(),
    candidates: z.array(id('candidate')).min(1).max(64).optional(),
    mode: z.enum(['single', 'duel']).default('single'),
    metadata: z.record(z.string().max(64), z.union([z.string().max(256), finite(), z.boolean()])).optional(),
  })
  .refine((r) => r.input !== undefined || r.messages !== undefined || r.features !== undefined, {
    message: 'give one of input, messages or features',
    path: ['input'],
  });
export type RouteRequest = z.infer<typeof routeRequestSchema>;

export interface RouteScore {
  model: string;
  score: number;
  quality: number;
  bonus: number;
  energyJoules: number;
  costUsd: number;
  latencyMs: number;
}

export interface RouteResponse {
  decisionId: string;
  policy: string;
  policyVersion: number;
  algorithm: string;
  model: string;
  models: string[];
  propensity: number;
  scores: RouteScore[];
  /** Where the decision's context came from (`fallback`: an embeddings policy decided without its embedding). */
  featureSource: DecisionFeatureSource;
  /** With `featureSource: "fallback"`: why the embedding was not used. */
  featureFallbackReason?: EmbeddingFallbackReason;
}

/**
 * `POST /v1/chat/completions`: the OpenAI request with `model: "router/<policy>"` (routed), or a registry model id
 * (a direct call; an id starting with `router/` always names a router). Other OpenAI parameters pass through to
 * the upstream unchanged (validated there).
 */
export const chatRequestSchema = z.looseObject({
  model: z.string().regex(/^(router\/)?[A-Za-z0-9._:@/-]{1,128}$/, 'must be "router/<policy>" or a model id'),
  messages: z.array(chatMessageSchema).min(1).max(1000),
  // `null` is "not set", as OpenAI takes it (generated clients send it for every unset field).
  stream: z
    .boolean()
    .nullable()
    .optional()
    .transform((v) => v ?? undefined),
  // Read by the proxy (stream-usage.ts): an upstream that ignored a value it cannot read would leave a stream unmetered.
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** An OpenAI-compatible request's `model` with this prefix names a router (a policy); anything else a model id. */
export const ROUTER_MODEL_PREFIX = 'router/';
export const isRouterName = (model: string): boolean => model.startsWith(ROUTER_MODEL_PREFIX);
/** Why a model id may not start so: a request naming it would always be read as a router. */
export const ROUTER_NAME_TAKEN = `a model id may not start with ${ROUTER_MODEL_PREFIX} (requests read such a name as a router)`;

/**
 * `POST /v1/embeddings`: the OpenAI request, with `model` a registry model id (embeddings are not routed). Other
 * parameters (`encoding_format`, `dimensions`, `user`) pass through to the upstream unchanged (validated there).
 */
export const embeddingsRequestSchema = z.looseObject({
  model: id('model').refine((m) => !isRouterName(m), 'embeddings are not routed: name a model id'),
  // OpenAI's forms: a text, a token array, or up to 2,048 of either (none empty; one form per request).
  input: z.union(
    [
      z.string().min(1),
      z.array(z.int().min(0)).min(1),
      z.array(z.string().min(1)).min(1).max(2048),
      z
        .array(z.array(z.int().min(0)).min(1))
        .min(1)
        .max(2048),
    ],
    { error: 'must be a text, a token array, or 1–2,048 non-empty texts or token arrays' },
  ),
});
export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;
