export * from './event-applier.js';
export * from './markers.js';
export * from './rebuilder.js';
export * from './default-rewards.js';
