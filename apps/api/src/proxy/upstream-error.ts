/** OpenAI's error object, as an upstream's refusal is relayed in it. */
export interface OpenAiErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** The longest message taken from a body that is not OpenAI's shape (FastAPI's `detail`, say). */
const MAX_MESSAGE_CHARS = 4000;

/**
 * An upstream's JSON error body as OpenAI's error object, whatever OpenAI-compatible server sent it: OpenAI's own
 * (`{"error": {…}}`, passed as sent), TGI's (`{"error": "text", "error_type": …}`), vLLM's (`{"object": "error",
 * "message": …}`), FastAPI's validation answer (`{"detail": …}`) or a bare `{"message": …}`. Undefined when the body
 * is none of these (not JSON, or JSON that says nothing): the status alone is then said.
 */
export function upstreamErrorObject(text: string): unknown {
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    body = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { error } = body;
  if (typeof error === 'object' && error !== null && !Array.isArray(error)) return error;
  const message = [error, body.message, body.detail].find((m) => m !== undefined && m !== null);
  if (message === undefined) return undefined;
  return {
    message: (typeof message === 'string' ? message : JSON.stringify(message)).slice(0, MAX_MESSAGE_CHARS),
    type: textOr(body.error_type ?? body.type, 'invalid_request_error'),
    param: textOr(body.param, null),
    code: textOr(body.code, null),
  } satisfies OpenAiErrorObject;
}

const textOr = <T>(v: unknown, otherwise: T): string | T => (typeof v === 'string' && v.length <= 200 ? v : otherwise);

/** The longest wait an upstream's Retry-After is taken for (a broken header must not keep a model out for days). */
export const MAX_RETRY_AFTER_MS = 300_000;

/**
 * How long an upstream asked to be left alone, from `retry-after-ms` (OpenAI's), or `retry-after` in seconds or as
 * an HTTP date; undefined when it said nothing usable. At most MAX_RETRY_AFTER_MS.
 */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | undefined {
  const header = (name: string) => {
    const v = headers[name];
    return (Array.isArray(v) ? v[0] : v)?.trim();
  };
  const ms = header('retry-after-ms');
  const after = header('retry-after');
  let wait: number | undefined;
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms)) wait = Number(ms);
  else if (after !== undefined && /^\d+(\.\d+)?$/.test(after)) wait = Number(after) * 1000;
  else if (after !== undefined && /[a-z]/i.test(after)) {
    const at = Date.parse(after);
    if (Number.isFinite(at)) wait = Math.max(0, at - now);
  }
  return wait === undefined ? undefined : Math.min(wait, MAX_RETRY_AFTER_MS);
}
