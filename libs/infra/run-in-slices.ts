import { type Steps } from '@app/bandits';

/** Longest run of CPU work between two chances for requests to run (ms). */
export const SLICE_MS = 2;

/**
 * Runs steps on this replica's one thread, letting requests run whenever a slice of them has taken `sliceMs`
 * (Infinity: at once), so that long work (a large policy's compile, an off-policy evaluation of thousands of logged
 * decisions) never holds requests up for more than about that. Answers the result and the CPU time it took.
 * Once `signal` aborts (the client that asked for the work left), it stops at the next slice with its reason.
 */
export async function runInSlices<T>(steps: Steps<T>, sliceMs = SLICE_MS, signal?: AbortSignal): Promise<{ value: T; busyMs: number }> {
  let busyMs = 0;
  let start = performance.now();
  for (;;) {
    const r = steps.next();
    const now = performance.now();
    if (r.done) return { value: r.value, busyMs: busyMs + now - start };
    if (now - start < sliceMs) continue;
    busyMs += now - start;
    await new Promise((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
    start = performance.now();
  }
}
