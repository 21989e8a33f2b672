const { exp, min } = Math;

export interface LogprobSignals {
  /** exp(mean token log-probability): the geometric-mean token probability, in (0, 1]. */
  meanProb: number;
  /** exp(min token log-probability): the least likely token's probability. */
  minProb: number;
}

/**
 * Confidence from the token log-probabilities an upstream returned (OpenAI `logprobs.content[].logprob`), or
 * undefined without any finite one.
 */
export function logprobSignals(logprobs: readonly number[] | undefined): LogprobSignals | undefined {
  if (!logprobs) return undefined;
  let sum = 0;
  let n = 0;
  let lo = 0;
  for (const l of logprobs) {
    if (!Number.isFinite(l)) continue;
    const v = min(0, l);
    sum += v;
    lo = min(lo, v);
    n++;
  }
  return n === 0 ? undefined : { meanProb: exp(sum / n), minProb: exp(lo) };
}
