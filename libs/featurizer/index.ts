export { featurize, messagesText, FEATURIZER_VERSION, FIXED_FEATURES, HASHED_WEIGHT, MIN_DIM, MESSAGES_TEXT_MAX_CHARS } from './featurize.js';
export { SLOTS, slot, type SlotName } from './slots.js';
export { SIGNALS, type Signal } from './lexicon.js';
export { FEATURIZE_HEAD_CHARS, FEATURIZE_TAIL_CHARS, joinedView, textView } from './window.js';
export { biasOnlyContext, projectEmbedding, projectionSeed, MIN_PROJECTED_DIM, PROJECTED_WEIGHT, PROJECTION_VERSION } from './projection.js';
export {
  checkFit,
  featurizeFitted,
  fitFeaturizer,
  fitHash,
  minFittedDim,
  nearestCluster,
  FIT_FORMAT,
  MAX_CLUSTERS,
  type FeaturizerFit,
  type FitMembership,
  type FitOptions,
} from './fitted.js';
export { answerSignals, ANSWER_SIGNALS, ANSWER_SIGNALS_VERSION, type AnswerInput, type AnswerSignal } from './answer/answer-signals.js';
export { evaluateArithmetic } from './answer/arithmetic.js';
export { checkAnnotations, type AnnotationCheck } from './answer/calculator-annotations.js';
export { finalAnswerLine, type FinalAnswerLine } from './answer/final-answer-line.js';
