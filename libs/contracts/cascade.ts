import { z } from 'zod';
import { finite } from './finite.js';
import { chatMessageSchema } from './route.js';

/**
 * A policy's cascade: after a model answers, its escalation policy decides from the answer whether to call a dearer
 * model (ALGORITHMS.md §14). `maxSteps`: model calls per request at most (2 = one escalation).
 */
export const cascadeConfigSchema = z.strictObject({
  maxSteps: z.int().min(2).max(4).default(2),
});

/** The reward a censored answer's router decision learns: the escalation policy's ĝ₁ of it, clamped to [0, 1]. */
export const imputedReward = (acceptQuality: number): number => (Number.isFinite(acceptQuality) ? Math.min(1, Math.max(0, acceptQuality)) : 0);
export type CascadeConfig = z.infer<typeof cascadeConfigSchema>;

/**
 * The escalation policy of policy `name` is a policy of its own, kept by the service (created and updated with its
 * router, removed with it): its decisions, propensities, state and rebuilds are every policy's. Names ending in
 * the suffix are reserved for it.
 */
export const ESCALATION_SUFFIX = '.escalation';
export const escalationPolicyName = (name: string): string => `${name}${ESCALATION_SUFFIX}`;
export const isEscalationPolicyName = (name: string): boolean => name.endsWith(ESCALATION_SUFFIX);
/** The router a policy name belongs to (itself, or the router of an escalation policy): what key scopes name. */
export const routerPolicyName = (name: string): string => (isEscalationPolicyName(name) ? name.slice(0, -ESCALATION_SUFFIX.length) : name);

/**
 * The longest answer an escalation policy examines (the answer signals are linear in it, on the api's thread): a
 * longer one is refused by `/continue`, and a proxied cascade examines its first this many characters.
 */
export const MAX_EXAMINED_ANSWER_CHARS = 1_000_000;

/** `POST /v1/route/{decisionId}/continue`: the answer the decision's model gave, and optionally the prompt. */
export const continueRequestSchema = z.strictObject({
  answer: z.string().max(MAX_EXAMINED_ANSWER_CHARS),
  /** The prompt (as in /v1/route): signals such as "short for its prompt" need it; without it they read 0. */
  input: z.string().max(1_000_000).optional(),
  messages: z.array(chatMessageSchema).min(1).max(1000).optional(),
  /** Per-token log-probabilities of the answer, when the upstream returned them. */
  logprobs: z.array(finite().max(0)).max(100_000).optional(),
  /** The request asked for JSON (response_format), whatever its text says. */
  jsonRequested: z.boolean().optional(),
});
export type ContinueRequest = z.infer<typeof continueRequestSchema>;

/** An escalation of a request's cascade: its decision, the router decision whose answer it hid, and ĝ₁ of that answer. */
export const cascadeEscalationSchema = z.object({
  id: z.string(),
  censored: z.string(),
  /** The escalation policy's estimate of the hidden answer's quality, in [0, 1] (what its router decision learns). */
  imputed: finite().min(0).max(1),
});

/**
 * Where a decision of an escalation policy sits in its cascade: the router decision the request started with
 * (`root`), the models called so far (after this step), whether this step escalated, the router decision whose
 * model's answer stands if nothing else is called (`router`), and the escalations of the request so far, this one
 * included (`escalations`). Feedback on the final answer sent to the last step's decision teaches every one of them
 * (cascadeShares).
 */
export const decisionCascadeSchema = z.object({
  root: z.string(),
  router: z.string(),
  called: z.array(z.string()),
  escalated: z.boolean(),
  escalations: z.array(cascadeEscalationSchema).default([]),
});
export type DecisionCascade = z.infer<typeof decisionCascadeSchema>;

export interface ContinueResponse {
  /** Send the final answer's feedback here (it teaches the escalation policy and the router); continue from here. */
  decisionId: string;
  policy: string;
  action: 'accept' | 'escalate';
  /** accept: the model whose answer stands; escalate: the model to call now. */
  model: string;
  /** The model whose answer was examined. */
  answered: string;
  /** Models called for this request, counting `model` when escalating. */
  step: number;
  propensity: number;
  /** learned: the escalation policy decided; otherwise why nothing else can be called. */
  reason: 'learned' | 'max-steps' | 'no-dearer-model';
}
