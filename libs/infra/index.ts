export * from './config.js';
export * from './dependency-down.js';
export * from './infra.module.js';
export * from './logger.js';
export * from './queue.js';
export * from './tokens.js';
export * from './tracing.js';
export * from './permanent-failure.js';
