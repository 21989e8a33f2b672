export * from './events.js';
export * from './finite.js';
export * from './jobs.js';
export * from './keys.js';
export * from './model.js';
export * from './policy.js';
export * from './prior.js';
export * from './route.js';
