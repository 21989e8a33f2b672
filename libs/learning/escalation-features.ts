import { evenKnots, hatBasis } from '@app/bandits';
import { ANSWER_SIGNALS } from '@app/featurizer';

/** Knots of the piecewise-linear effect of each continuous confidence signal (answer length, mean token probability). */
export const ESCALATION_KNOTS = evenKnots(0, 1, 6);
const LENGTH = ANSWER_SIGNALS.indexOf('length');
const MEAN_PROB = ANSWER_SIGNALS.indexOf('logprobMeanProb');
const LOGPROBS_KNOWN = ANSWER_SIGNALS.indexOf('logprobsKnown');

/**
 * Length of the escalation policy's feature vector φ for a policy with `arms` arms and prompt context dimension
 * `contextDim` (see escalationFeatures).
 */
export const escalationDim = (arms: number, contextDim: number): number =>
  1 + 2 * arms + 2 * ESCALATION_KNOTS.length + (ANSWER_SIGNALS.length - 2) + contextDim;

export interface EscalationInput {
  /** Arm index of the model that answered, and of the model an escalation would call. */
  answered: number;
  next: number;
  arms: number;
  /** The answer's signals in ANSWER_SIGNALS order (answerSignals(...).vector). */
  signals: Float64Array;
  /** The prompt's context vector (the policy's featurizer output). */
  context: Float64Array;
}

/**
 * φ(z) for the escalation learner (ALGORITHMS.md §14, z = [x; s; onehot(m₁)]): an intercept, one-hots of the
 * model that answered and of the escalation target, a hat basis over the answer length and the mean token
 * probability (flexible where confidence matters), the other signals as they are, and the prompt context x (so the
 * policy can learn which kinds of prompts a model fails on).
 */
export function escalationFeatures(
  input: EscalationInput,
  out: Float64Array = new Float64Array(escalationDim(input.arms, input.context.length)),
): Float64Array {
  const { arms, signals, context } = input;
  out.fill(0);
  let o = 0;
  out[o++] = 1;
  out[o + input.answered] = 1;
  o += arms;
  out[o + input.next] = 1;
  o += arms;
  o = hatBasis(signals[LENGTH], ESCALATION_KNOTS, out, o);
  // Without log-probabilities the block stays 0 (logprobsKnown, among the plain signals, carries the difference).
  if (signals[LOGPROBS_KNOWN] === 1) hatBasis(signals[MEAN_PROB], ESCALATION_KNOTS, out, o);
  o += ESCALATION_KNOTS.length;
  for (let s = 0; s < signals.length; s++) if (s !== LENGTH && s !== MEAN_PROB) out[o++] = signals[s];
  out.set(context, o);
  return out;
}
