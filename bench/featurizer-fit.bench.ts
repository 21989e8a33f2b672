import { createHash } from 'node:crypto';
import { featurize, featurizeFitted, fitFeaturizer, nearestCluster, type FitMembership } from '@app/featurizer';
import { loadDataset, meanSd, reference, runReplay, type ReplayDataset } from '@app/replay';
import { benchArgs, replayDataPath } from './support/bench-args.js';

/**
 * Measurement, not product: does the fitted projection (libs/featurizer/fitted.ts) help a policy? Centroids are fitted
 * on the prompts (text only, no outcomes) of a hash-chosen 80% of a replay file; LinUCB then replays
 * (a) the other 20% and (b) the whole file, once with the built-in featurizer and once with the fitted one, same seeds.
 *
 * Usage: npm run build && node dist/bench/featurizer-fit.bench.js [--data FILE] [--k 16] [--membership soft|hard]
 *        [--alpha 0.5] [--seeds 5] [--dim 64] [--fit-seed 1]
 */
const args = benchArgs();
const file = args.get('data') ?? 'routerdc_7x7b_models.jsonl';
const k = Number(args.get('k') ?? 16);
const membership = (args.get('membership') ?? 'soft') as FitMembership;
const alpha = Number(args.get('alpha') ?? 0.5);
const seeds = Number(args.get('seeds') ?? 5);
const dim = Number(args.get('dim') ?? 64);
const fitSeed = Number(args.get('fit-seed') ?? 1);
const path = replayDataPath(file);

const ds = loadDataset(path);
/** Held out: the first 8 hex digits of sha256(prompt) modulo 100 below 20 (the data README's rule, on the whole prompt). */
const heldOut = (prompt: string) => parseInt(createHash('sha256').update(prompt).digest('hex').slice(0, 8), 16) % 100 < 20;
const fitPrompts = ds.records.filter((r) => !heldOut(r.prompt)).map((r) => r.prompt);
const test: ReplayDataset = { ...ds, name: `${ds.name} (held-out 20%)`, records: ds.records.filter((r) => heldOut(r.prompt)) };

const t0 = Date.now();
const fit = fitFeaturizer(fitPrompts, dim, k, fitSeed, { membership });
console.log(`${ds.name}: fitted k = ${k} (${membership}) on ${fitPrompts.length} prompts in ${Date.now() - t0} ms; hash ${fit.hash}`);

// How the clusters fall across the tasks (a diagnostic: the fit never sees the task label).
const byCluster = new Map<number, Map<string, number>>();
for (const r of ds.records) {
  const c = nearestCluster(fit, r.prompt);
  const m = byCluster.get(c) ?? new Map<string, number>();
  m.set(r.task, (m.get(r.task) ?? 0) + 1);
  byCluster.set(c, m);
}
for (const [c, m] of [...byCluster].sort((a, b) => a[0] - b[0])) {
  const total = [...m.values()].reduce((s, v) => s + v, 0);
  const top = [...m].sort((a, b) => b[1] - a[1]).slice(0, 3);
  console.log(`  cluster ${c}: ${total} prompts; ${top.map(([t, v]) => `${t} ${((100 * v) / total).toFixed(0)}%`).join(', ')}`);
}

function replay(data: ReplayDataset, features: Float64Array[]): string {
  const ref = reference(data);
  const best = data.models.indexOf(ref.bestSingle.model);
  const spec = { algorithm: 'linucb' as const, objective: { quality: 1, energy: 0, cost: 0, latency: 0 }, params: { alpha }, delay: 0 };
  const q = meanSd(Array.from({ length: seeds }, (_, s) => runReplay(data, features, best, spec, s).quality));
  return `${q.mean.toFixed(4)} ± ${q.sd.toFixed(4)} (per-task best ${ref.perTaskBest.quality.toFixed(4)})`;
}

for (const data of [test, ds]) {
  console.log(`${data.name}: ${data.records.length} prompts, linucb alpha=${alpha}, ${seeds} seeds, dim ${dim}`);
  console.log(
    `  built-in: ${replay(
      data,
      data.records.map((r) => featurize(r.prompt, dim)),
    )}`,
  );
  console.log(
    `  fitted:   ${replay(
      data,
      data.records.map((r) => featurizeFitted(fit, r.prompt, dim)),
    )}`,
  );
}
