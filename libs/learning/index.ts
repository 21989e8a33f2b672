export * from './deltas.js';
export * from './runtime.js';
