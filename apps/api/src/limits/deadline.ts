import { performance } from 'node:perf_hooks';

/** A timer that fires this much after it was due says the event loop was held (up to 8 waits in all). */
const LATE_SHARE = 0.2;
const MAX_WAITS = 8;

/**
 * `p`, or a rejection when it has not settled within `ms` of a responsive event loop. A timer that fires late (this
 * process was busy, e.g. parsing a large body, so Redis's answer may be waiting unread in the socket) does not
 * count: it waits another `ms`, while the answers already received are read, up to eight times `ms` in all. Without
 * this, a tenant that holds the api's thread for `ms` with a costly request made every limit check that was waiting
 * meanwhile fail open.
 */
export function withinDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const wait = (n: number) => {
      const due = performance.now() + ms;
      timer = setTimeout(() => {
        if (performance.now() - due > LATE_SHARE * ms && n < MAX_WAITS) wait(n + 1);
        else reject(new Error(`no answer within ${ms} ms`));
      }, ms);
    };
    wait(1);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
