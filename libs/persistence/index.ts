export * from './db.js';
export * from './decisions.repository.js';
export * from './events.repository.js';
export * from './keys.repository.js';
export * from './models.repository.js';
export * from './policies.repository.js';
export * from './learned-events.repository.js';
export * from './dead-letters.repository.js';
