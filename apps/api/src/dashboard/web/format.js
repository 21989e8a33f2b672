// Numbers and times as the panels show them.

/** @typedef {import('./types').HeadName} HeadName */

/** @type {Record<HeadName, { label: string, unit: string, digits: number }>} */
export const HEADS = {
  quality: { label: 'quality', unit: '', digits: 3 },
  energyJoules: { label: 'energy', unit: 'J', digits: 1 },
  costUsd: { label: 'cost', unit: 'USD', digits: 6 },
  latencyMs: { label: 'latency', unit: 'ms', digits: 0 },
};

/**
 * @param {number | null | undefined} x
 * @param {number} [digits]
 */
export function num(x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x !== 0 && Math.abs(x) < 10 ** -digits) return x.toExponential(2);
  return x.toLocaleString('en', { maximumFractionDigits: digits });
}

/**
 * An estimate with its interval, e.g. `0.71 [0.68, 0.74]`.
 * @param {import('./types').Estimate | null} e
 * @param {number} digits
 */
export function interval(e, digits) {
  if (!e) return 'no data';
  return `${num(e.estimate, digits)} [${num(e.ci95[0], digits)}, ${num(e.ci95[1], digits)}]`;
}

/** @param {number | null} ms */
export function duration(ms) {
  if (ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${num(ms / 1000, 1)} s`;
  if (ms < 7_200_000) return `${num(ms / 60_000, 1)} min`;
  return `${num(ms / 3_600_000, 1)} h`;
}

/**
 * A bucket's start as a short label: the time of day, with the date for buckets of a day.
 * @param {number} t
 * @param {number} bucketSeconds
 */
export function bucketLabel(t, bucketSeconds) {
  const d = new Date(t);
  if (bucketSeconds >= 86_400) return d.toLocaleDateString('en-CA');
  return d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
}

/** @param {string} iso */
export function dateTime(iso) {
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' });
}
