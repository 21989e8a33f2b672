import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * What a caller's request id may look like to be kept: it is echoed in a header, written to the log and sent
 * upstream, so no whitespace, quotes, separators or control characters, and at most 128 characters.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@=+/-]{1,128}$/;

/** The caller's `x-request-id` if it is one value of the safe shape; otherwise a fresh UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && SAFE_REQUEST_ID.test(header) ? header : randomUUID();
}
