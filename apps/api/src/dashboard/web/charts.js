// The charts, drawn with Chart.js (its UMD build, served by the api from the npm package). Every drawn canvas
// gets `data-points`: how many values its datasets hold, so a test (or a curious operator) can see what was drawn.

/** @typedef {import('chart.js').ChartConfiguration} Config */
/** @typedef {import('chart.js').ChartDataset} Dataset */
/** @typedef {import('./types').Frontier} Frontier */
/** @typedef {import('./types').HeadName} HeadName */

const PALETTE = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2', '#be185d', '#65a30d'];

/** @param {number} i */
export const colorAt = (i) => PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length];

/**
 * @param {string} hex
 * @param {number} alpha
 */
const translucent = (hex, alpha) =>
  `${hex}${Math.round(alpha * 255)
    .toString(16)
    .padStart(2, '0')}`;

/** A drawn value: a number, or a point whose `y` is one. @param {unknown} v */
const present = (v) => (typeof v === 'object' && v !== null && 'y' in v ? v.y !== null : v !== null && v !== undefined);

/**
 * Draws `config` on `canvas`, replacing the chart drawn there before.
 * @param {HTMLCanvasElement} canvas
 * @param {Config} config
 */
function draw(canvas, config) {
  window.Chart.getChart(canvas)?.destroy();
  config.options = { animation: false, responsive: true, maintainAspectRatio: false, ...config.options };
  const chart = new window.Chart(canvas, config);
  const points = chart.data.datasets.reduce((n, d) => n + d.data.filter(present).length, 0);
  canvas.dataset.points = String(points);
  return chart;
}

/**
 * One line (or stacked bar) per model over the buckets of the range.
 * @param {HTMLCanvasElement} canvas
 * @param {string[]} labels the buckets
 * @param {Map<string, (number | null)[]>} series per model
 * @param {{ unit: string, color: (model: string) => string, stacked?: boolean, max?: number }} opts
 */
export function timeChart(canvas, labels, series, opts) {
  const stacked = opts.stacked ?? false;
  return draw(canvas, {
    type: stacked ? 'bar' : 'line',
    data: {
      labels,
      datasets: [...series].map(([model, data]) => ({
        label: model,
        data,
        borderColor: opts.color(model),
        backgroundColor: stacked ? opts.color(model) : translucent(opts.color(model), 0.2),
        pointRadius: 2,
        spanGaps: true,
      })),
    },
    options: {
      scales: {
        x: { stacked, ticks: { maxTicksLimit: 8 } },
        y: { stacked, beginAtZero: true, max: opts.max, title: { display: opts.unit !== '', text: opts.unit } },
      },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    },
  });
}

/**
 * Feedback per bucket: the share of decisions with feedback (bars, %) and the mean time to it (line, seconds).
 * @param {HTMLCanvasElement} canvas
 * @param {string[]} labels
 * @param {{ coverage: (number | null)[], lagMs: (number | null)[] }} series
 */
export function feedbackChart(canvas, labels, series) {
  return draw(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { type: 'bar', label: 'with feedback (%)', data: series.coverage, backgroundColor: translucent(colorAt(2), 0.5), yAxisID: 'coverage' },
        {
          type: 'line',
          label: 'mean lag (s)',
          data: series.lagMs.map((ms) => (ms === null ? null : ms / 1000)),
          borderColor: colorAt(4),
          backgroundColor: colorAt(4),
          pointRadius: 2,
          spanGaps: true,
          yAxisID: 'lag',
        },
      ],
    },
    options: {
      scales: {
        x: { ticks: { maxTicksLimit: 8 } },
        coverage: { position: 'left', beginAtZero: true, max: 100, title: { display: true, text: '%' } },
        lag: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 's' } },
      },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    },
  });
}

/**
 * A head's estimate along the weight, with its 95% interval as a band (two datasets: the lower bound, then the
 * upper one filled down to it), and the logged policy's value at the current weight.
 * @param {Frontier} f
 * @param {HeadName} head
 * @param {string} label
 * @param {string} color
 * @param {string} axis
 * @returns {Dataset[]}
 */
function headCurve(f, head, label, color, axis) {
  const at = (/** @type {(e: import('./types').Estimate) => number} */ pick) =>
    f.points.map((p) => ({ x: p.value, y: p.candidate[head] ? pick(/** @type {import('./types').Estimate} */ (p.candidate[head])) : null }));
  const logged = f.logged?.[head];
  return [
    { type: 'line', label: '', data: at((e) => e.ci95[0]), borderWidth: 0, pointRadius: 0, yAxisID: axis },
    {
      type: 'line',
      label: `${label} 95% interval`,
      data: at((e) => e.ci95[1]),
      borderWidth: 0,
      pointRadius: 0,
      backgroundColor: translucent(color, 0.18),
      fill: '-1',
      yAxisID: axis,
    },
    { type: 'line', label: `${label} estimate`, data: at((e) => e.estimate), borderColor: color, backgroundColor: color, pointRadius: 3, yAxisID: axis },
    {
      type: 'scatter',
      label: `${label} now (logged)`,
      data: logged ? [{ x: f.current, y: logged.estimate }] : [],
      borderColor: color,
      backgroundColor: '#ffffff',
      pointStyle: 'rectRot',
      pointRadius: 8,
      borderWidth: 2,
      yAxisID: axis,
    },
  ];
}

/**
 * The trade-off frontier: quality (left axis) and the weighted head (right axis) against the weight.
 * @param {HTMLCanvasElement} canvas
 * @param {Frontier} f
 * @param {{ head: HeadName, label: string, unit: string }} against
 */
export function frontierChart(canvas, f, against) {
  return draw(canvas, {
    type: 'line',
    data: { datasets: [...headCurve(f, 'quality', 'quality', colorAt(0), 'quality'), ...headCurve(f, against.head, against.label, colorAt(1), 'other')] },
    options: {
      scales: {
        x: { type: 'linear', title: { display: true, text: `${f.weight} weight` } },
        quality: { position: 'left', title: { display: true, text: 'quality' } },
        other: { position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: `${against.label} (${against.unit})` } },
      },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12, filter: (item) => item.text !== '' } } },
    },
  });
}
