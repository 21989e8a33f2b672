const { abs, max } = Math;
/** Largest absolute difference divided by the largest magnitude of the reference (test support). */
export function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = max(num, abs(a[i] - ref[i]));
    den = max(den, abs(ref[i]));
  }
  return num / (den || 1);
}
