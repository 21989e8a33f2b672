const { floor, min } = Math;
/** Small summaries for seeded scenario tests. */
export const mean = (v: readonly number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
export const seeds = (n: number, base = 0): number[] => Array.from({ length: n }, (_, i) => base + i);
export const quantile = (v: readonly number[], q: number): number => {
  const s = [...v].sort((a, b) => a - b);
  return s[min(s.length - 1, floor(q * s.length))];
};
