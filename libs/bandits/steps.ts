/**
 * Work in steps: a generator that yields between bounded pieces of a long computation (a matrix inversion row by
 * row, a policy's compile arm by arm), so a caller that serves requests can let them run in between (a replica's
 * recompile), while every other caller runs it at once with {@link finish}. The result is the same either way.
 */
export type Steps<T> = Generator<void, T, void>;

/** Runs steps to their end, at once. */
export function finish<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
