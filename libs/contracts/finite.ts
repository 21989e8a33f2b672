import { z } from 'zod';

/** A finite JSON number (zod's number already rejects NaN; Infinity cannot come from JSON but can from code). */
export const finite = () => z.number().refine(Number.isFinite, 'must be a finite number');
export const id = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(128, `${what} is at most 128 characters`)
    .regex(/^[A-Za-z0-9._:@/-]+$/, `${what} may contain letters, digits and . _ : @ / - only`);
