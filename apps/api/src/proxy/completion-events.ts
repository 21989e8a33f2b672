/**
 * A complete chat completion as the server-sent events a stream of it would have been: how the answer of an
 * upstream that ignored `stream: true` (a JSON body instead of an event stream) is relayed to a client that asked
 * for a stream. Per choice, one chunk whose delta is the whole message (a tool call gains its `index`, as stream
 * deltas carry) with its finish_reason; then a usage chunk without choices when the answer has usage (the relay
 * hides it from a client that did not ask); then `[DONE]`. `completion` is a JSON object (rewriteCompletion's).
 */
export function completionAsEvents(completion: Record<string, unknown>): string {
  const head = headOf(completion);
  const choices: unknown[] = Array.isArray(completion.choices) ? completion.choices : [];
  const events: object[] = choices.map((c, i) => {
    const choice = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
    return {
      ...head,
      choices: [{ index: choice.index ?? i, delta: deltaOf(choice.message), logprobs: choice.logprobs ?? null, finish_reason: choice.finish_reason ?? null }],
    };
  });
  if (typeof completion.usage === 'object' && completion.usage !== null) events.push({ ...head, choices: [], usage: completion.usage });
  return events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('') + 'data: [DONE]\n\n';
}

/** A message as one stream delta: the same fields, each tool call with its position as `index`. */
function deltaOf(message: unknown): Record<string, unknown> {
  if (typeof message !== 'object' || message === null) return {};
  const delta = { ...(message as Record<string, unknown>) };
  if (Array.isArray(delta.tool_calls))
    delta.tool_calls = delta.tool_calls.map((t: unknown, index) => (typeof t === 'object' && t !== null ? { index, ...t } : t));
  return delta;
}

/** What every chunk of a completion's events repeats. */
const headOf = (completion: Record<string, unknown>) => ({
  id: completion.id,
  object: 'chat.completion.chunk',
  created: completion.created,
  model: completion.model,
  ...(completion.system_fingerprint !== undefined ? { system_fingerprint: completion.system_fingerprint } : {}),
});

/** Bytes of JSON every chunk of the completion's events repeats (its head). */
export const eventHeadBytes = (completion: Record<string, unknown>): number => JSON.stringify(headOf(completion)).length;
