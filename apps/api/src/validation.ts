import { DomainError, type FieldError } from '@app/errors';
import { z } from 'zod';

/** The body of a request that takes none: absent, or an empty object; any field in it is a 400 naming it. */
export const noBodySchema = z.strictObject({}).optional();

/** Parses a request part with its zod schema; a failure is a 400 naming every bad field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where = 'body'): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new DomainError('VALIDATION', `invalid ${where}`, issuesToErrors(r.error.issues));
}

/**
 * One error per issue, naming its field (an unknown field is named itself, one error each). A value that matches none of a union's shapes (a prior record that is
 * neither a score nor a preference) is reported by the shape it comes nearest to: the fewest keys missing or
 * unknown to it, then the fewest issues. So `{"model": …, "score": "0.8"}` is named at `.score`, not as a
 * preference missing `preferred`; a tie keeps the union's own message.
 */
export function issuesToErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues
    .flatMap((i) => nearestBranch(i, []))
    .slice(0, 50)
    .map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

/** Keys a branch's issues say are missing or not part of its shape. */
const shapeMisses = (branch: readonly z.core.$ZodIssue[]): number =>
  branch.reduce(
    (n, i) => n + (i.code === 'unrecognized_keys' ? i.keys.length : i.code === 'invalid_type' && i.message.endsWith('received undefined') ? 1 : 0),
    0,
  );

function nearestBranch(issue: z.core.$ZodIssue, prefix: PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => ({ path: [...path, k], message: `unknown field "${String(k)}"` }));
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ path, message: issue.message }];
  const rank = (b: readonly z.core.$ZodIssue[]) => [shapeMisses(b), b.length];
  const ranks = issue.errors.map(rank);
  const best = ranks.reduce((m, r) => (r[0] < m[0] || (r[0] === m[0] && r[1] < m[1]) ? r : m));
  const nearest = issue.errors.filter((_, i) => ranks[i][0] === best[0] && ranks[i][1] === best[1]);
  if (nearest.length !== 1 || nearest[0].length === 0) return [{ path, message: issue.message }];
  return nearest[0].flatMap((i) => nearestBranch(i, path));
}
