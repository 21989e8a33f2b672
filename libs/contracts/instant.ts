import { z } from 'zod';

/**
 * An ISO 8601 instant with offset, between 1970 and 9999: what Postgres stores and a Date represents alike, so a
 * query or a row with it never fails as out of range (year 0 is a 400 naming `what`, not a failed statement).
 */
export const instant = (what: string) =>
  // Not an instant at all: that one error, not also the range's.
  z.iso.datetime({ offset: true, abort: true }).refine((v) => {
    const t = Date.parse(v);
    return t >= 0 && t < Date.UTC(10_000, 0, 1);
  }, `${what} must be between 1970 and 9999`);
