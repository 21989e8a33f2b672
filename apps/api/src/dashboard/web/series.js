// Time series of GET /admin/policies/{name}/timeseries reshaped for the charts: one value per model and bucket,
// on the full grid of buckets of the range (the API leaves out buckets without decisions). Pure functions.

/** @typedef {import('./types').TimeseriesPoint} Point */
/** @typedef {import('./types').Timeseries} Timeseries */

/** Bucket widths the API accepts, in seconds. */
export const BUCKET_SECONDS = /** @type {const} */ ({ '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '6h': 21_600, '1d': 86_400 });

/**
 * The start of every bucket of the range, in ms: buckets start on the UTC clock (the API's `date_bin` origin is the
 * Unix epoch), the first at or before `from`.
 * @param {Timeseries} ts
 * @returns {number[]}
 */
export function bucketGrid(ts) {
  const step = bucketSeconds(ts) * 1000;
  const from = Date.parse(ts.from);
  const to = Date.parse(ts.to);
  /** @type {number[]} */
  const grid = [];
  for (let t = Math.floor(from / step) * step; t < to; t += step) grid.push(t);
  return grid;
}

/** @param {Timeseries} ts */
export function bucketSeconds(ts) {
  return BUCKET_SECONDS[/** @type {keyof typeof BUCKET_SECONDS} */ (ts.bucket)] ?? 60;
}

/** @param {Point[]} points */
export function modelsOf(points) {
  return [...new Set(points.map((p) => p.model))].sort();
}

/**
 * One array per model, aligned with `grid`: `pick(point)` where the model has a point in the bucket, else null.
 * @param {Timeseries} ts
 * @param {number[]} grid
 * @param {(p: Point) => number | null} pick
 * @returns {Map<string, (number | null)[]>}
 */
export function perModel(ts, grid, pick) {
  const index = new Map(grid.map((t, i) => [t, i]));
  const out = new Map(modelsOf(ts.points).map((m) => [m, /** @type {(number | null)[]} */ (grid.map(() => null))]));
  for (const p of ts.points) {
    const i = index.get(Date.parse(p.bucket));
    const row = out.get(p.model);
    if (i !== undefined && row) row[i] = pick(p);
  }
  return out;
}

/**
 * Per model and bucket, its share of the bucket's decisions in percent (null for buckets without decisions).
 * @param {Timeseries} ts
 * @param {number[]} grid
 */
export function shares(ts, grid) {
  const decisions = perModel(ts, grid, (p) => p.decisions);
  const totals = grid.map((_, i) => [...decisions.values()].reduce((s, row) => s + (row[i] ?? 0), 0));
  return new Map([...decisions].map(([m, row]) => [m, row.map((d, i) => (totals[i] ? (100 * (d ?? 0)) / totals[i] : null))]));
}

/**
 * Totals of some points: decisions, those with feedback, and the mean time from a decision to its feedback (ms,
 * each point's mean weighted by its feedback count; null without feedback).
 * @param {Point[]} points
 */
export function feedbackTotals(points) {
  let decisions = 0;
  let feedback = 0;
  let lag = 0;
  let lagged = 0;
  for (const p of points) {
    decisions += p.decisions;
    feedback += p.feedback;
    if (p.feedbackLagMs !== null) {
      lag += p.feedbackLagMs * p.feedback;
      lagged += p.feedback;
    }
  }
  return { decisions, feedback, meanLagMs: lagged ? lag / lagged : null };
}

/**
 * Per bucket, over all models: the share of decisions with feedback (%) and the mean time to it (ms).
 * @param {Timeseries} ts
 * @param {number[]} grid
 */
export function feedbackSeries(ts, grid) {
  const index = new Map(grid.map((t, i) => [t, i]));
  const byBucket = grid.map(() => /** @type {Point[]} */ ([]));
  for (const p of ts.points) {
    const i = index.get(Date.parse(p.bucket));
    if (i !== undefined) byBucket[i].push(p);
  }
  const totals = byBucket.map(feedbackTotals);
  return {
    coverage: totals.map((t) => (t.decisions ? (100 * t.feedback) / t.decisions : null)),
    lagMs: totals.map((t) => t.meanLagMs),
  };
}
