export * from './router-client.js';
