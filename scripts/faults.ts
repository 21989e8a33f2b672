import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs the fault-injection tests (docs/guarantees.md) and prints their results table from what they measured.
 * Usage: npm run test:faults     (Redis and Postgres on their usual local ports; the tests start private ones
 * where they kill something). Exit code: jest's.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const FILES = [
  'test/e2e/worker-crash.e2e.spec.ts',
  'test/e2e/redis-aof-restart.e2e.spec.ts',
  'test/e2e/redis-outage.e2e.spec.ts',
  'test/integration/applier.spec.ts',
  'test/e2e/postgres-outage.e2e.spec.ts',
  'test/e2e/replicas.e2e.spec.ts',
  'test/e2e/guarantees.e2e.spec.ts',
];

const dir = mkdtempSync(join(tmpdir(), 'router-faults-'));
const out = join(dir, 'results.jsonl');
const jest = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', 'node_modules/jest/bin/jest.js', '--runInBand', ...FILES], {
  cwd: root,
  env: { ...process.env, FAULT_RESULTS_FILE: out },
  stdio: 'inherit',
});
const rows = existsSync(out)
  ? readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, string | number | null>)
  : [];
rows.sort((a, b) => String(a.scenario).localeCompare(String(b.scenario)));
const cell = (v: string | number | null) => (v === null ? '—' : typeof v === 'number' ? v.toLocaleString('en-US') : v);
console.log('\n| scenario | injected | events | lost | duplicated | max lag (ms) | during the fault |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const dup = r.duplicated === -1 ? 'state ≠ fold' : cell(r.duplicated);
  console.log(`| ${r.scenario} | ${r.injected} | ${cell(r.events)} | ${cell(r.lost)} | ${dup} | ${cell(r.maxLagMs)} | ${r.duringFault} |`);
}
rmSync(dir, { recursive: true, force: true });
process.exit(jest.status ?? 1);
