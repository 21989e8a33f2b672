export { featurize, messagesText, FIXED_FEATURES, MIN_DIM, MESSAGES_TEXT_MAX_CHARS } from './featurize.js';
export { CUES } from './cues.js';
export { FEATURIZE_HEAD_CHARS, FEATURIZE_TAIL_CHARS, joinedView, textView } from './window.js';
