import { type Reference } from './reference.js';
import { type ResultRow } from './report.js';

const W = 360;
const H = 260;
const PAD = 44;
const COLORS = ['#1b6ca8', '#d1495b', '#edae49', '#00798c', '#66a182', '#8d6a9f', '#30343f', '#e07a5f'];

interface Point {
  x: number;
  y: number;
  label?: string;
  color: string;
  shape: 'dot' | 'cross';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function panel(ox: number, title: string, xLabel: string, series: { color: string; pts: [number, number][] }[], points: Point[]): string {
  const xs = [...series.flatMap((s) => s.pts.map((p) => p[0])), ...points.map((p) => p.x)];
  const ys = [...series.flatMap((s) => s.pts.map((p) => p[1])), ...points.map((p) => p.y)];
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (v: number) => ox + PAD + ((v - x0) / (x1 - x0 || 1)) * (W - PAD - 10);
  const sy = (v: number) => H - PAD + 10 - ((v - y0) / (y1 - y0 || 1)) * (H - PAD - 20);
  const out = [
    `<text x="${ox + W / 2}" y="14" font-size="12" text-anchor="middle">${esc(title)}</text>`,
    `<line x1="${ox + PAD}" y1="${H - PAD + 10}" x2="${ox + W - 10}" y2="${H - PAD + 10}" stroke="#999"/>`,
    `<line x1="${ox + PAD}" y1="20" x2="${ox + PAD}" y2="${H - PAD + 10}" stroke="#999"/>`,
    `<text x="${ox + W / 2}" y="${H - 4}" font-size="10" text-anchor="middle">${esc(xLabel)} (${x0.toPrecision(3)} … ${x1.toPrecision(3)})</text>`,
    `<text x="${ox + 10}" y="${H / 2}" font-size="10" transform="rotate(-90 ${ox + 10} ${H / 2})" text-anchor="middle">quality (${y0.toFixed(3)} … ${y1.toFixed(3)})</text>`,
  ];
  for (const s of series)
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${s.pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
    );
  for (const p of points) {
    const [x, y] = [sx(p.x), sy(p.y)];
    out.push(
      p.shape === 'dot'
        ? `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${p.color}"/>`
        : `<path d="M${x - 3},${y - 3}L${x + 3},${y + 3}M${x - 3},${y + 3}L${x + 3},${y - 3}" stroke="${p.color}"/>`,
    );
    if (p.label) out.push(`<text x="${(x + 4).toFixed(1)}" y="${(y - 4).toFixed(1)}" font-size="8" fill="#555">${esc(p.label)}</text>`);
  }
  return out.join('\n');
}

/**
 * Three panels: learning curves (running mean quality per algorithm × objective), and quality against cost and
 * against energy for every row (dots, one colour per algorithm; a weight sweep traces the frontier) beside each
 * fixed model and random (crosses).
 */
export function renderSvg(dataset: string, ref: Reference, rows: readonly ResultRow[], energyKnown: boolean): string {
  const algos = [...new Set(rows.map((r) => r.algorithm))];
  const color = (a: string) => COLORS[algos.indexOf(a) % COLORS.length];
  const curves = rows.map((r) => ({ color: color(r.algorithm), pts: r.curve.map((p) => [p.round, p.quality] as [number, number]) }));
  const refs = (key: 'costUsd' | 'energyJ'): Point[] => [
    ...ref.perModel.map((m) => ({ x: m[key], y: m.quality, label: m.model.split('/').pop(), color: '#888', shape: 'cross' as const })),
    { x: key === 'costUsd' ? ref.randomCostUsd : ref.randomEnergyJ, y: ref.randomQuality, label: 'random', color: '#000', shape: 'cross' },
  ];
  const ours = (key: 'costUsd' | 'energyJ'): Point[] => rows.map((r) => ({ x: r[key].mean, y: r.quality.mean, color: color(r.algorithm), shape: 'dot' }));
  const panels = [
    panel(0, `${dataset}: learning curves`, 'round', curves, []),
    panel(W, 'quality vs cost per request', 'USD', [], [...refs('costUsd'), ...ours('costUsd')]),
  ];
  if (energyKnown) panels.push(panel(2 * W, 'quality vs energy per request', 'J', [], [...refs('energyJ'), ...ours('energyJ')]));
  const legend = algos.map((a, i) => `<text x="${10 + i * 110}" y="${H + 16}" font-size="11" fill="${color(a)}">● ${esc(a)}</text>`).join('\n');
  const width = W * panels.length;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 24}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${panels.join('\n')}\n${legend}\n</svg>\n`;
}
