import { z } from 'zod';
import { type PolicyConfig } from './policy.js';

/**
 * Whether two policy configs put their contexts in the same space: same source, dim, (embeddings) model and
 * (built-in) featurizer version.
 * Statistics and priors learnt in one space mean nothing in another (a change starts a new epoch).
 */
export const sameFeatureSpace = (a: PolicyConfig['features'], b: PolicyConfig['features']): boolean =>
  a.source === b.source && a.dim === b.dim && a.model === b.model && a.version === b.version;

/**
 * Where a decision's context came from: the policy's source, or `fallback` when an embeddings policy decided
 * without its embedding (the upstream was slow, failed, or is not callable as configured). A fallback decision
 * is stored with an empty context and teaches nothing (ALGORITHMS.md, embeddings).
 */
export const decisionFeatureSourceSchema = z.enum(['builtin', 'caller', 'embeddings', 'fallback']);
export type DecisionFeatureSource = z.infer<typeof decisionFeatureSourceSchema>;

/**
 * Why an embeddings decision fell back: no answer in time, a failed or unusable answer, a model that cannot be
 * called, or the caller's share of the embeddings upstream's connections in use (`busy`).
 */
export const embeddingFallbackReasonSchema = z.enum(['timeout', 'error', 'config', 'busy']);
export type EmbeddingFallbackReason = z.infer<typeof embeddingFallbackReasonSchema>;
