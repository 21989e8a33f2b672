import { MAX_EXAMINED_ANSWER_CHARS } from '@app/contracts';

/**
 * What a cascade examines of a chat completion: its first choice's text (up to MAX_EXAMINED_ANSWER_CHARS) and, when
 * returned, its token log-probabilities.
 */
export function completionAnswer(body: { choices?: unknown }): { text: string; logprobs?: number[] } {
  const choice = Array.isArray(body.choices) ? (body.choices[0] as Record<string, unknown> | undefined) : undefined;
  const message = choice?.message as { content?: unknown } | undefined;
  const text = typeof message?.content === 'string' ? message.content.slice(0, MAX_EXAMINED_ANSWER_CHARS) : '';
  const tokens = (choice?.logprobs as { content?: unknown } | null | undefined)?.content;
  if (!Array.isArray(tokens)) return { text };
  const logprobs = tokens.flatMap((t) => {
    const lp = (t as { logprob?: unknown } | null)?.logprob;
    return typeof lp === 'number' && Number.isFinite(lp) && lp <= 0 ? [lp] : [];
  });
  return logprobs.length > 0 ? { text, logprobs: logprobs.slice(0, 100_000) } : { text };
}

/** The request asked for JSON through the API (`response_format` json_object or json_schema). */
export function asksForJsonFormat(params: Record<string, unknown>): boolean {
  const type = (params.response_format as { type?: unknown } | undefined)?.type;
  return type === 'json_object' || type === 'json_schema';
}
