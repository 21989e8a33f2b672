export * from './decide-policy.js';
export * from './deltas.js';
export * from './runtime.js';
export * from './prior-fit.js';
export * from './sequential-runtime.js';
