export * from './event-applier.js';
export * from './markers.js';
export * from './rebuilder.js';
export * from './default-rewards.js';
export * from './model-energy-estimator.js';
export * from './ingest.module.js';
