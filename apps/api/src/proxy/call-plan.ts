import { type DomainError } from '@app/errors';
import { type FastifyReply } from 'fastify';
import { type Model } from '@app/contracts';
import { type Attempt } from './upstream.js';
import { type completionAnswer } from './completion-answer.js';
import { type Answered, type Wasted } from './usage-job.js';
import { type Endpoint } from './endpoint-url.js';

/** A non-streaming chat completion as the upstream answered it (`model` rewritten to the registry id). */
export type CompletionBody = { model?: string; usage?: { prompt_tokens?: number; completion_tokens?: number }; choices?: unknown };

/** A non-streamed answer held back: what a cascade examines of it, and the bytes that would be sent. */
export interface HeldAnswer {
  examined: ReturnType<typeof completionAnswer>;
  bytes: Buffer;
}

/** How a non-streamed answer's bytes are sent (what Fastify sets for a JSON object). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** One request's upstream call, the same for every attempt. */
export interface UpstreamCall {
  endpoint: Endpoint;
  /** A chat's messages (none for embeddings). */
  messages: unknown[];
  params: Record<string, unknown>;
  stream: boolean;
  reply: FastifyReply;
  requestId: string;
  /** The calling key's owner: large answers are rewritten in turns between owners (completion-thread.ts). */
  tenant: string;
  /**
   * When the call's time is up (`Date.now()` ms; set by its first try, PROXY_TIMEOUT_MS on): every attempt, retry,
   * fallback and escalation shares it, so a call lasts no longer than the limit whatever its attempts.
   */
  deadline?: number;
}

/** What a call is for (a routing decision, or a direct model call): the models to try and what to do after. */
export interface CallPlan {
  /** Models to try, in order. */
  order: string[];
  /** `model` is about to answer (nothing sent yet): awaited before its answer goes out. */
  beforeAnswer(model: string): Promise<void>;
  /** An upstream's own 4xx is about to be relayed, so no model answers: awaited before it goes out. */
  beforeRelay?(): Promise<void>;
  /** Non-streaming answers are handed here instead of being sent (a cascade examines them first). */
  hold?(model: string, answer: HeldAnswer): void;
  /** false: an upstream's own 4xx fails the call instead of being relayed (an escalation's; the earlier answer stands). */
  relay?: false;
  /** The router's response headers for an answer of `model`. */
  headers(model: string): Record<string, string>;
  /**
   * Records the call's usage (`model`: the one that answered or was tried last; `a`: what it measured), and each
   * answer made upstream but not used (`wasted`), charged as its own event.
   */
  record(model: Model | null, a: Answered | null, attempts: Attempt[], wasted: Wasted[]): void;
  /** `model` answered. */
  answered(model: string): void;
  /** Every model failed: the error to answer. */
  allFailed(attempts: Attempt[]): DomainError;
}
