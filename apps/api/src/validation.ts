import { DomainError, type FieldError } from '@app/errors';
import { type z } from 'zod';

/** Parses a request part with its zod schema; a failure is a 400 naming every bad field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where = 'body'): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new DomainError('VALIDATION', `invalid ${where}`, issuesToErrors(r.error.issues));
}

/**
 * One error per issue, naming its field. A value that matches none of a union's shapes (a prior record that is
 * neither a score nor a preference) is reported by the shape it comes nearest to, the one with the fewest issues,
 * so a bad `records.3.costUsd` is named as such instead of as `records.3: Invalid input`.
 */
export function issuesToErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues
    .flatMap((i) => nearestBranch(i, []))
    .slice(0, 50)
    .map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

function nearestBranch(issue: z.core.$ZodIssue, prefix: PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  const path = [...prefix, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ path, message: issue.message }];
  const fewest = Math.min(...issue.errors.map((b) => b.length));
  const nearest = issue.errors.filter((b) => b.length === fewest);
  if (nearest.length !== 1 || fewest === 0) return [{ path, message: issue.message }];
  return nearest[0].flatMap((i) => nearestBranch(i, path));
}
