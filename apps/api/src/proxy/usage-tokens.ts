/** Postgres `integer` columns hold token counts: an upstream's count past this is not a real count. */
const MAX_TOKENS = 2 ** 31 - 1;

/**
 * A token count as reported by an upstream (`usage.prompt_tokens` …), made safe to record: a whole number in
 * [0, 2^31 − 1], or `fallback()` when the upstream sent none or nonsense (negative, fractional, not a number).
 * An upstream's answer must never make the usage event invalid: it travels in a batch with other tenants' events.
 */
export function usageTokens(reported: unknown, fallback: () => number): number {
  if (typeof reported !== 'number' || !Number.isInteger(reported) || reported < 0) return fallback();
  return Math.min(reported, MAX_TOKENS);
}
