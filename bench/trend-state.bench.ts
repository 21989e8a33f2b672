import { type LearnedRow, TrendRuntime } from '@app/learning';

/**
 * A replica's TI-UCB state under a long feedback stream, in process: N feedback rows on 16 arms (one in seven
 * arriving 3 s of decision time late, so most batches land in an arm's past), added in batches of 500 as the api's
 * reader does. Prints, per quarter of the stream, the cost of adding a row and the heap the state retains (after a
 * forced GC), and the last quarter's figures as ratios to the first's: both stay near 1 when the state is bounded.
 * Usage: npm run bench:trend-state [-- rows]   (default 2,000,000; run with --expose-gc, as the npm script does)
 */
const [n = 2_000_000] = process.argv.slice(2).map(Number);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const K = 16;
const BATCH = 500;
const empty = new Float64Array(0);

const row = (i: number): LearnedRow => ({
  id: `ev_${i}`,
  kind: 'feedback',
  reward: ((i * 7919) % 13) / 12,
  x: empty,
  arm: i % K,
  second: null,
  createdAt: 1.75e12 + i * 0.5 - (i % 7 === 0 ? 3000 : 0),
});

function heapMb(): number {
  gc!();
  return process.memoryUsage().heapUsed / 1e6;
}

const base = heapMb();
const state = new TrendRuntime(K);
const quarters: { usPerRow: number; heapMb: number }[] = [];
let spent = 0;
let from = 0;
for (let i = 0; i < n; i += BATCH) {
  const rows = Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => row(i + k));
  const t0 = performance.now();
  state.add(rows);
  spent += performance.now() - t0;
  const done = i + rows.length;
  if (done >= ((quarters.length + 1) * n) / 4) {
    quarters.push({ usPerRow: (spent * 1000) / (done - from), heapMb: heapMb() - base });
    console.log(`rows ${done}: ${quarters.at(-1)!.usPerRow.toFixed(2)} µs per row added, state ${quarters.at(-1)!.heapMb.toFixed(1)} MB of heap`);
    spent = 0;
    from = done;
  }
}
const [first, last] = [quarters[0], quarters[quarters.length - 1]];
console.log(
  `last quarter / first: ${(last.usPerRow / first.usPerRow).toFixed(2)}x the cost per row, ${(last.heapMb / first.heapMb).toFixed(2)}x the heap ` +
    `(observations kept unfolded: ${state.kept()}, rows learnt: ${state.pulls().reduce((s, p) => s + p, 0)})`,
);
