import { type FieldError } from '@app/errors';

/** Deepest array/object nesting accepted in a field passed through to an upstream. */
export const MAX_NESTING = 64;

/**
 * Whether `value` nests arrays or objects more than `limit` levels deep (`[]` is one level). Walks an explicit
 * stack, so a hostile depth cannot overflow the check itself; stops at the first level past the limit.
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const v = stack.pop();
    const depth = depths.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child !== 'object' || child === null) continue;
      stack.push(child);
      depths.push(depth + 1);
    }
  }
  return false;
}

/**
 * The fields of a chat request that nest too deeply to be serialised for an upstream: passthrough parameters by
 * name, message fields as `messages.<i>.<field>`.
 */
export function nestingErrors(params: Record<string, unknown>, messages: readonly Record<string, unknown>[], limit = MAX_NESTING): FieldError[] {
  const message = `nested more than ${limit} levels deep`;
  const errors: FieldError[] = [];
  for (const [k, v] of Object.entries(params)) if (nestedDeeperThan(v, limit)) errors.push({ path: k, message });
  messages.forEach((m, i) => {
    for (const [k, v] of Object.entries(m)) if (nestedDeeperThan(v, limit)) errors.push({ path: `messages.${i}.${k}`, message });
  });
  return errors.slice(0, 50);
}
