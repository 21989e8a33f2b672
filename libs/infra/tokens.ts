/** Injection tokens for the few values that are not classes. */
export const SQL = Symbol('SQL');
export const REDIS = Symbol('REDIS');
export const CONFIG = Symbol('CONFIG');
/** BullMQ's `connection` (see queueConnection), provided and closed by StoreModule. */
export const QUEUE_CONNECTION = Symbol('QUEUE_CONNECTION');
