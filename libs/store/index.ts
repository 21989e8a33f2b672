export * from './blob.js';
export * from './decisions.store.js';
export * from './keys.js';
export * from './policy-registry.store.js';
export * from './policy-state.store.js';
export * from './prefix.js';
export * from './breaker.store.js';
