import { ANSWER_SIGNALS } from '@app/featurizer';

const ANNOTATED = ANSWER_SIGNALS.indexOf('annotated');
const WRONG = ANSWER_SIGNALS.indexOf('annotationWrong');
const FINAL = ANSWER_SIGNALS.indexOf('finalLine');
const INCONSISTENT = ANSWER_SIGNALS.indexOf('finalLineInconsistent');

/**
 * The hand-written escalation check the learned policy is compared with: on an answer in GSM8K's format (calculator
 * annotations or a `####` line), escalate when an annotation does not recompute, the `####` line is missing, or
 * its number disagrees with the working. Answers in any other format are accepted.
 */
export function handCheckEscalates(signals: Float64Array): boolean {
  const gsm8kFormat = signals[ANNOTATED] === 1 || signals[FINAL] === 1;
  return gsm8kFormat && (signals[WRONG] === 1 || signals[FINAL] === 0 || signals[INCONSISTENT] === 1);
}
