import { completionAnswer } from './completion-answer.js';
import { type CompletionBody } from './call-plan.js';
import { completionAsEvents, eventHeadBytes } from './completion-events.js';
import { type Endpoint } from './endpoint-url.js';
import { generatedBytes } from './usage-tokens.js';

/** A non-streamed completion made ready to send: its bytes with `model` rewritten, and what its usage needs. */
export interface RewrittenCompletion {
  /** The answer as sent to the client: UTF-8 JSON, or for `events` the events of a stream of it. */
  bytes: Uint8Array;
  /** The upstream's `usage` counts, as it sent them (checked by usageTokens). */
  promptTokens: unknown;
  completionTokens: unknown;
  /** `usage.total_tokens`: an embeddings answer's count when it gives no `prompt_tokens`. */
  totalTokens: unknown;
  /** UTF-8 bytes of generated text (generatedBytes): what an answer without `usage` is charged. */
  generatedBytes: number;
  /** What a cascade examines of the answer (completionAnswer), when asked for. */
  examined?: ReturnType<typeof completionAnswer>;
}

/**
 * The upstream answered (2xx) something that is not an answer: the model's fault, not the transport's.
 * `reported`: the upstream said it failed (an error object, no choices, an error event), as a 5xx would, so the
 * attempt is not charged; otherwise it made something that could not be used (a body that is not JSON), which is.
 */
export class MalformedAnswer extends Error {
  override readonly name = 'MalformedAnswer';

  constructor(
    message: string,
    readonly reported = false,
  ) {
    super(message);
  }
}

/** A failure the upstream reported itself in a 2xx (MalformedAnswer.reported): charged as a 5xx is, not at all. */
export const reportedFailure = (err: unknown): boolean => err instanceof MalformedAnswer && err.reported;
const malformed = (detail: string) => new MalformedAnswer(`the upstream's answer is not a JSON object (${detail})`);

/**
 * Most bytes an answer's events may spend repeating its head (id, created, model, fingerprint: once per choice, as
 * stream chunks carry them): a real answer's is about 150 bytes times at most 128 choices; an upstream's huge id over
 * thousands of empty choices would otherwise make gigabytes of events from a small answer.
 */
export const MAX_REPEATED_HEAD_BYTES = 1024 * 1024;

/** A JSON completion with choices sent as events: repeating its head per choice stays bounded. */
function assertEventsFit(completion: CompletionBody): void {
  const n = (completion.choices as unknown[]).length;
  if (n * eventHeadBytes(completion) > MAX_REPEATED_HEAD_BYTES)
    throw new MalformedAnswer(`the upstream's JSON answer to a stream request repeats a large head over ${n} choices`);
}

/**
 * What a rewrite makes of an answer: a chat completion's JSON to send (`json`), the same with what a cascade
 * examines of it (`examined`), or, for a client that asked for a stream of an upstream that sent one JSON
 * completion, the events a stream of it would have been (`events`: completionAsEvents); or an embeddings answer's
 * JSON (`embeddings`).
 */
export type CompletionForm = 'json' | 'examined' | 'events' | 'embeddings';

/** The form of an endpoint's answer to send as JSON (a cascade's step examined). */
export const jsonForm = (endpoint: Endpoint, examine = false): CompletionForm => (endpoint === 'embeddings' ? 'embeddings' : examine ? 'examined' : 'json');

/**
 * A 2xx answer that is not what its endpoint answers (an error object sent with a 200, say): a completion without
 * choices, an embeddings answer without data. It fails the attempt as any malformed answer does (retry, fall back,
 * the breaker counts it).
 */
function assertAnswers(body: CompletionBody & { data?: unknown }, form: CompletionForm): void {
  if (form === 'embeddings') {
    if (!Array.isArray(body.data)) throw new MalformedAnswer("the upstream's answer has no data (not an embeddings answer)", true);
    return;
  }
  const choices: unknown = body.choices;
  if (!Array.isArray(choices) || choices.length === 0)
    throw new MalformedAnswer(`the upstream's ${form === 'events' ? 'JSON answer to a stream request' : 'answer'} has no choices`, true);
}

/**
 * An upstream's non-streamed answer (`raw`, UTF-8 JSON) with its `model` set to the registry id, in `form`;
 * MalformedAnswer for one that is not a JSON object, is not its endpoint's answer (assertAnswers), or as events would
 * blow up (assertEventsFit). Pure, so that a large answer can be rewritten off the api's thread (completion-thread.ts) and a small
 * one on it, by the same rule.
 */
export function rewriteCompletion(raw: Uint8Array, model: string, form: CompletionForm): RewrittenCompletion {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    // Not the parser's message: it quotes the body (an internal gateway's error page, say).
    throw malformed('not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw malformed(Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body);
  const completion = body as CompletionBody;
  completion.model = model;
  const usage = (typeof completion.usage === 'object' && completion.usage !== null ? completion.usage : {}) as Record<string, unknown>;
  assertAnswers(completion, form);
  if (form === 'events') assertEventsFit(completion);
  let text: string;
  try {
    text = form === 'events' ? completionAsEvents(completion) : JSON.stringify(completion);
  } catch (e) {
    // Nesting deeper than the stack (JSON.parse takes any depth, JSON.stringify recurses), or longer than a string holds.
    throw malformed(e instanceof RangeError && /string length/i.test(e.message) ? 'too large to send' : 'nested too deeply');
  }
  return {
    bytes: new TextEncoder().encode(text),
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    totalTokens: usage.total_tokens,
    generatedBytes: generatedBytes(completion.choices, 'message'),
    ...(form === 'examined' ? { examined: completionAnswer(completion) } : {}),
  };
}
