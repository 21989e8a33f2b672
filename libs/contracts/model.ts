import { z } from 'zod';
import { MAX_JOULES_PER_TOKEN } from './events.js';
import { finite, isStorableText, text } from './finite.js';

/** USD per million tokens: far above any real price, low enough that scores stay finite (1e308 made them NaN). */
export const MAX_PRICE_PER_MTOK = 10_000;

export const modelConfigSchema = z.strictObject({
  // An http(s) upstream the proxy can call, storable in Postgres (no NUL): a file:// or NUL-bearing URL is a 400.
  baseUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .max(2000, 'baseUrl is at most 2000 characters')
    .refine(isStorableText, 'baseUrl may not contain NUL characters or unpaired surrogates')
    .optional(),
  upstreamModel: text('upstreamModel', 200).min(1).optional(),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name')
    .describe("environment variable holding the upstream key; must start with the api's UPSTREAM_KEY_ENV_PREFIX (default UPSTREAM_)")
    .optional(),
  pricing: z.strictObject({ inputPerMTok: finite().min(0).max(MAX_PRICE_PER_MTOK), outputPerMTok: finite().min(0).max(MAX_PRICE_PER_MTOK) }).optional(),
  energy: z.strictObject({ joulesPerOutputToken: finite().min(0).max(MAX_JOULES_PER_TOKEN) }).optional(),
  streamUsage: z
    .boolean()
    .describe(
      'ask the upstream for the usage of streamed answers (`stream_options.include_usage`), removed from the stream again for clients that did not ask; default true, false for an upstream that refuses the field (its streams are then charged by estimate)',
    )
    .optional(),
  enabled: z.boolean().default(true),
});
export type ModelConfig = z.infer<typeof modelConfigSchema>;

/**
 * A partial update (PATCH): any of the fields of modelConfigSchema, each validated as there; absent fields keep
 * their stored value (so `enabled` has no default here). A nested object (`pricing`, `energy`) is replaced whole.
 */
export const modelPatchSchema = modelConfigSchema
  .extend({ enabled: modelConfigSchema.shape.enabled.unwrap() })
  .partial()
  .refine((p) => Object.keys(p).length > 0, `give at least one of ${Object.keys(modelConfigSchema.shape).join(', ')}`);
export type ModelPatch = z.infer<typeof modelPatchSchema>;
export interface Model extends ModelConfig {
  id: string;
}
