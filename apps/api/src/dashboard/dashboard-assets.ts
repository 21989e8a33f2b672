import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  type: string;
  body: Buffer;
}

/** The browser code beside this file (copied next to the compiled controller by scripts/copy-assets.mjs). */
const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), 'web');
const MODULES = ['main.js', 'api.js', 'session.js', 'status.js', 'dom.js', 'format.js', 'series.js', 'charts.js', 'panels.js', 'preview.js', 'audit.js'];
/** Chart.js's UMD build (every chart type registered, no imports): a classic script defining the global `Chart`. */
const CHART_JS = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

const read = (path: string, type: string): Asset => ({ type, body: readFileSync(path) });

/**
 * The page and every file it loads, by the name in its URL (`/dashboard/<name>`), read once at boot. A fixed Map:
 * no path from the request reaches the file system.
 */
export function loadDashboardAssets(): { page: Asset; files: Map<string, Asset> } {
  const js = 'text/javascript; charset=utf-8';
  const files = new Map<string, Asset>([
    ['dashboard.css', read(join(WEB_DIR, 'dashboard.css'), 'text/css; charset=utf-8')],
    ['chart.umd.min.js', read(CHART_JS, js)],
    ...MODULES.map((m): [string, Asset] => [m, read(join(WEB_DIR, m), js)]),
  ]);
  return { page: read(join(WEB_DIR, 'index.html'), 'text/html; charset=utf-8'), files };
}
