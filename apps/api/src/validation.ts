import { DomainError, type FieldError } from '@app/errors';
import { type z } from 'zod';

/** Parses a request part with its zod schema; a failure is a 400 naming every bad field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where = 'body'): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new DomainError('VALIDATION', `invalid ${where}`, issuesToErrors(r.error.issues));
}

export function issuesToErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.slice(0, 50).map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}
