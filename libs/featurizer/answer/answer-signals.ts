import { checkAnnotations } from './calculator-annotations.js';
import { codeShape } from './code-answer.js';
import { finalAnswerLine } from './final-answer-line.js';
import { asksForJson, containsValidJson } from './json-answer.js';
import { hedgeCount, isRefusal } from './refusal.js';
import { repeatedLineShare } from './repetition.js';
import { logprobSignals } from './token-logprobs.js';

const { log1p, min } = Math;

/**
 * The response-level signals of one answer (ALGORITHMS.md §14, stage 2), each in [0, 1], in a fixed order. Version
 * ANSWER_SIGNALS_VERSION: a change of order or meaning changes the escalation policy's feature layout.
 */
export const ANSWER_SIGNALS = [
  /** log(1 + chars) / log(1 + 8000), clamped. */
  'length',
  /** The answer is shorter than a fifth of the prompt (a cut or evasive answer). */
  'shortForPrompt',
  'refusal',
  /** Hedging markers, min(count, 3) / 3. */
  'hedging',
  /** Calculator annotations `<<expr=value>>` present. */
  'annotated',
  /** At least one annotation does not recompute to its stated value. */
  'annotationWrong',
  /** A `#### n` final line is present. */
  'finalLine',
  /** The final line's number does not match the working (or is not a number). */
  'finalLineInconsistent',
  /** JSON was asked for and the answer holds no valid JSON. */
  'jsonInvalid',
  'codeFenced',
  'codeDefinesFunction',
  'codeUnbalanced',
  /** Share of repeated lines. */
  'repetition',
  /** Token log-probabilities were returned (the two signals after it are 0 otherwise). */
  'logprobsKnown',
  'logprobMeanProb',
  'logprobMinProb',
] as const;

export type AnswerSignal = (typeof ANSWER_SIGNALS)[number];
export const ANSWER_SIGNALS_VERSION = 1;

export interface AnswerInput {
  /** The request's text (what the model was asked). */
  prompt: string;
  /** The first model's answer text. */
  answer: string;
  /** Per-token log-probabilities, when the upstream returned them. */
  logprobs?: readonly number[];
  /** The request asked for JSON through the API (response_format), whatever the prompt says. */
  jsonRequested?: boolean;
}

/** The signals of one answer as a record (named) and in ANSWER_SIGNALS order (`vector`). */
export function answerSignals(input: AnswerInput): { named: Record<AnswerSignal, number>; vector: Float64Array } {
  const { prompt, answer } = input;
  const ann = checkAnnotations(answer);
  const fin = finalAnswerLine(answer, ann);
  const code = codeShape(answer);
  const lp = logprobSignals(input.logprobs);
  const wantsJson = input.jsonRequested === true || asksForJson(prompt);
  const named: Record<AnswerSignal, number> = {
    length: min(1, log1p(answer.length) / log1p(8000)),
    shortForPrompt: answer.length * 5 < prompt.length ? 1 : 0,
    refusal: isRefusal(answer) ? 1 : 0,
    hedging: min(3, hedgeCount(answer, 3)) / 3,
    annotated: ann.count > 0 ? 1 : 0,
    annotationWrong: ann.wrong > 0 ? 1 : 0,
    finalLine: fin.present ? 1 : 0,
    finalLineInconsistent: fin.present && !fin.consistent ? 1 : 0,
    jsonInvalid: wantsJson && !containsValidJson(answer) ? 1 : 0,
    codeFenced: code.fenced ? 1 : 0,
    codeDefinesFunction: code.definesFunction ? 1 : 0,
    codeUnbalanced: code.unbalanced ? 1 : 0,
    repetition: repeatedLineShare(answer),
    logprobsKnown: lp ? 1 : 0,
    logprobMeanProb: lp?.meanProb ?? 0,
    logprobMinProb: lp?.minProb ?? 0,
  };
  return { named, vector: Float64Array.from(ANSWER_SIGNALS, (k) => named[k]) };
}
