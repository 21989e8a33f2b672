/**
 * SQLSTATE classes for which a retry of the same data can never succeed: 22 data exception (a NUL in text, an
 * unpaired surrogate in jsonb, a value out of range), 23 integrity constraint violation, 54 program limit
 * exceeded (an index row over the page limit).
 */
const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23', '54']);

/**
 * Whether an error of a learning pass comes from the data itself (Postgres refuses it), so that retrying the
 * same item is pointless and the item must be set aside. Outages, deadlocks and bugs are not: they retry.
 */
export function isPermanentDataError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && PERMANENT_SQLSTATE_CLASSES.has(code.slice(0, 2));
}
