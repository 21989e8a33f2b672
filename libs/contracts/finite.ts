import { z } from 'zod';

/** A finite JSON number (zod's number already rejects NaN; Infinity cannot come from JSON but can from code). */
export const finite = () => z.number().refine(Number.isFinite, 'must be a finite number');
/**
 * A caller-supplied context value: finite and at most 1e6 in magnitude, so that every score computed from it
 * stays finite (1e200 squared overflows, and a decision with a NaN score could not be recorded).
 */
export const MAX_FEATURE_MAGNITUDE = 1e6;
export const feature = () => finite().min(-MAX_FEATURE_MAGNITUDE).max(MAX_FEATURE_MAGNITUDE);
/** The longest id (policy, model, key, event, decision). */
export const MAX_ID_LENGTH = 128;

export const id = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(MAX_ID_LENGTH, `${what} is at most ${MAX_ID_LENGTH} characters`)
    .regex(/^[A-Za-z0-9._:@/-]+$/, `${what} may contain letters, digits and . _ : @ / - only`);

/**
 * Whether Postgres can store a string in text and jsonb columns: no NUL character and no lone UTF-16 surrogate
 * (both are rejected there, so accepting one would fail the worker's write after a 202).
 */
export const isStorableText = (s: string): boolean => s.isWellFormed() && !s.includes('\u0000');

/** Free text that will be stored: at most `max` characters, storable in Postgres. */
export const text = (what: string, max: number) =>
  z.string().max(max, `${what} is at most ${max} characters`).refine(isStorableText, `${what} may not contain NUL characters or unpaired surrogates`);

/** Makes a string storable in Postgres (NUL and lone surrogates become U+FFFD); for text we do not validate. */
export const storableText = (s: string): string => (isStorableText(s) ? s : s.toWellFormed().replaceAll('\u0000', '\uFFFD'));
