export { featurize, messagesText, FIXED_FEATURES, MIN_DIM } from './featurize.js';
export { CUES } from './cues.js';
