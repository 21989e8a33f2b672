/** Injection tokens for the few values that are not classes. */
export const SQL = Symbol('SQL');
export const REDIS = Symbol('REDIS');
export const CONFIG = Symbol('CONFIG');
