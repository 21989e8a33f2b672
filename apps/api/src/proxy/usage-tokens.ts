/** Postgres `integer` columns hold token counts: an upstream's count past this is not a real count. */
const MAX_TOKENS = 2 ** 31 - 1;

/**
 * A token count as reported by an upstream (`usage.prompt_tokens` …), made safe to record: a whole number in
 * [0, 2^31 − 1], or `fallback()` (the estimate from the text) when the upstream sent none or nonsense (negative,
 * fractional, not a number), or 0 where the estimate says there was text: no call that sent or made text is free.
 * An upstream's answer must never make the usage event invalid: it travels in a batch with other tenants' events.
 */
export function usageTokens(reported: unknown, fallback: () => number): number {
  const n = typeof reported === 'number' && Number.isInteger(reported) && reported > 0 ? reported : fallback();
  return Number.isFinite(n) && n > 0 ? Math.min(Math.ceil(n), MAX_TOKENS) : 0;
}

/** The first of an upstream's counts that is a count of something (a positive whole number), e.g. `prompt_tokens` else `total_tokens`. */
export const reportedCount = (...counts: unknown[]): unknown => counts.find((n) => typeof n === 'number' && Number.isInteger(n) && n > 0);

/**
 * Tokens of `bytes` UTF-8 bytes of text, where no count was reported: four bytes a token. About four characters
 * a token in English and code, and about three quarters of a token a character in Chinese or Japanese (three bytes
 * each), where a count of characters would charge a quarter of the tokens.
 */
export const estimateTokens = (bytes: number): number => Math.ceil(bytes / 4);

/**
 * Tokens of an embeddings request's `input` where the upstream reported none: texts at four UTF-8 bytes a token,
 * token arrays by their length (a token id's digits say nothing of it).
 */
export function embeddingsInputTokens(input: unknown): number {
  const one = (v: unknown): number => (typeof v === 'string' ? estimateTokens(Buffer.byteLength(v)) : Array.isArray(v) ? v.length : 0);
  if (!Array.isArray(input)) return one(input);
  return input.every((v) => typeof v === 'number') ? input.length : input.reduce((n: number, v) => n + one(v), 0);
}

/**
 * UTF-8 bytes of generated text in an answer's choices (`part`: `message` in a completion, `delta` in a stream
 * chunk): the content, a refusal, reasoning (`reasoning_content` or `reasoning`), and the arguments of tool and
 * function calls, each counted only where
 * it is a string (an upstream's answer is not trusted to be well formed). What an answer without `usage` is charged.
 */
export function generatedBytes(choices: unknown, part: 'message' | 'delta'): number {
  if (!Array.isArray(choices)) return 0;
  let n = 0;
  for (const c of choices as unknown[]) {
    const m = field(c, part);
    n += text(field(m, 'content')) + text(field(m, 'refusal')) + text(field(m, 'reasoning_content')) + text(field(m, 'reasoning'));
    n += text(field(field(m, 'function_call'), 'arguments'));
    const calls = field(m, 'tool_calls');
    if (Array.isArray(calls)) for (const t of calls as unknown[]) n += text(field(field(t, 'function'), 'arguments'));
  }
  return n;
}

const field = (o: unknown, k: string): unknown => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined);
const text = (v: unknown): number => (typeof v === 'string' ? Buffer.byteLength(v) : 0);
