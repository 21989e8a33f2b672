import { performance } from 'node:perf_hooks';

/** A timer that fires this much after it was due says the event loop was held (up to 8 waits in all). */
const LATE_SHARE = 0.2;
const MAX_WAITS = 8;

/**
 * `p`, or a rejection when it has not settled within `ms` of a responsive event loop. When the timer fires, the
 * decision waits for the event loop's next poll, so an answer already received (Redis's reply waiting unread in the
 * socket while this process was busy) is read first. A timer that fires late (the thread was held, e.g. parsing a
 * large body) waits another `ms` as well, up to eight times `ms` in all. Without this, a tenant that held the api's
 * thread past 250 ms with a costly request made every limit check waiting meanwhile fail open.
 */
export function withinDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const timeout = new Promise<never>((_, reject) => {
    const wait = (n: number) => {
      const due = performance.now() + ms;
      timer = setTimeout(() => {
        const late = performance.now() - due > LATE_SHARE * ms;
        // setImmediate runs after this turn's poll phase, which reads the sockets that have data.
        setImmediate(() => {
          if (settled) return;
          if (late && n < MAX_WAITS) wait(n + 1);
          else reject(new Error(`no answer within ${ms} ms`));
        });
      }, ms);
    };
    wait(1);
  });
  return Promise.race([p, timeout]).finally(() => {
    settled = true;
    clearTimeout(timer);
  });
}
