/**
 * Rows to insert as one JSON text of positional arrays (`tuple`: a row's columns in the statement's order), read
 * by position with `jsonb_array_elements`: one parameter and one statement text whatever the number of rows, and
 * serialised natively (per-column arrays are escaped value by value by the client). In id order, so that concurrent
 * writers of overlapping batches lock rows in the same order (no deadlock). `ids`: the rows' ids in that order.
 */
export function jsonRowsInIdOrder<R extends { id: string }>(rows: readonly R[], tuple: (r: R) => unknown[]): { ids: string[]; json: string } {
  const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { ids: sorted.map((r) => r.id), json: JSON.stringify(sorted.map(tuple)) };
}
