import { featurize } from '@app/featurizer';
import { loadDataset, type RawRecord, readJsonl, warmStartFromSplit } from '@app/replay';
import { benchArgs, replayDataPath } from './support/bench-args.js';

/**
 * Measurement, not product: how far a policy that never learns online gets at a cost budget from the warm-start
 * prior alone. The prior is fitted on a `--prior-split` part of a replay file exactly as the replay harness fits
 * it (θ⁰ per arm, and the cost head when the data has costs); one price λ is chosen on the prior's own records so
 * that their greedy choices (θ⁰·x − λ·cost) spend the budget there; the other records are then routed greedily at
 * that λ. Cost per choice: the prior's fitted cost head per prompt ("fitted cost"), or each model's mean cost on
 * the prior's records ("mean cost"). The gap between this and an online replay at the same budget is what the
 * online loop (exploration, learning, pacing) costs or wins.
 *
 * `--head energy` paces GPU energy (J per request, the records' energy and the prior's energy head) instead of cost;
 * `--models a,b,…` replays only those models.
 *
 * Usage: npm run build && node dist/bench/static-prior.bench.js [--data FILE] [--models m1,m2,…] [--head cost|energy]
 *        [--budget USD or J] [--split 0.8] [--dim 64]
 */
const args = benchArgs();
const file = args.get('data') ?? 'routerbench5shot_arc_mbpp_winogrande.jsonl';
const split = Number(args.get('split') ?? 0.8);
const dim = Number(args.get('dim') ?? 64);
const path = replayDataPath(file);
const head = args.get('head') === 'energy' ? 'energy' : 'cost';
const spendOf = (r: (typeof all.records)[number]) => (head === 'energy' ? r.energyJ : r.costUsd);

const raw = readJsonl<RawRecord>(path);
const all = loadDataset(path, args.get('models')?.split(','));
const warm = warmStartFromSplit(split, raw, all, dim, 100);
const models = all.models;
const K = models.length;
const priorPart = all.records.filter((r) => !warm.dataset.records.includes(r));
const replayed = warm.dataset.records;
const dot = (t: readonly number[] | undefined, x: Float64Array) => (t ? t.reduce((s, v, i) => s + v * x[i], 0) : 0);

interface Routed {
  quality: number;
  cost: number;
  shares: Float64Array;
}

/** Per record: the prior's quality prediction per model, and the cost each rule predicts. */
function predictions(records: typeof all.records, meanCost: Float64Array) {
  return records.map((r) => {
    const x = featurize(r.prompt, dim);
    const q = models.map((m) => dot(warm.prior.arms[m]?.theta, x));
    const fitted = models.map((m, a) => (warm.prior.arms[m]?.heads?.[head] ? dot(warm.prior.arms[m].heads[head], x) : meanCost[a]));
    return { r, q, fitted, mean: Array.from(meanCost) };
  });
}

function route(preds: ReturnType<typeof predictions>, lambda: number, costOf: 'fitted' | 'mean'): Routed {
  const shares = new Float64Array(K);
  let quality = 0;
  let cost = 0;
  for (const p of preds) {
    let best = 0;
    for (let a = 1; a < K; a++) if (p.q[a] - lambda * p[costOf][a] > p.q[best] - lambda * p[costOf][best]) best = a;
    quality += p.r.quality[best];
    cost += spendOf(p.r)[best];
    shares[best]++;
  }
  return { quality: quality / preds.length, cost: cost / preds.length, shares: shares.map((s) => s / preds.length) };
}

const meanCost = new Float64Array(K);
for (const r of priorPart) for (let a = 0; a < K; a++) meanCost[a] += spendOf(r)[a] / priorPart.length;
const ref = models.findIndex((m) => /gpt-4/.test(m));
const refQuality = ref >= 0 ? replayed.reduce((s, r) => s + r.quality[ref], 0) / replayed.length : NaN;
const refCost = ref >= 0 ? priorPart.reduce((s, r) => s + spendOf(r)[ref], 0) / priorPart.length : NaN;
const randomQuality = replayed.reduce((s, r) => s + r.quality.reduce((t, q) => t + q, 0) / K, 0) / replayed.length;
const budget = Number(args.get('budget') ?? 0.35 * refCost);
if (!(budget > 0)) throw new Error('give --budget (no GPT-4 reference cost to take 35 % of)');
const onPrior = predictions(priorPart, meanCost);
const onReplay = predictions(replayed, meanCost);
const unit = (v: number) => (head === 'energy' ? `${v.toFixed(2)} J` : `$${v.toExponential(3)}`);
console.log(`${all.name}: prior on ${priorPart.length} records (split ${split}), ${replayed.length} routed; ${head} budget ${unit(budget)}`);
console.log(`random routing: quality ${randomQuality.toFixed(4)} on the routed records`);
if (ref >= 0) console.log(`reference ${models[ref]}: quality ${refQuality.toFixed(4)} on the routed records`);
for (const costOf of ['mean', 'fitted'] as const) {
  let lo = 0;
  let hi = 1;
  while (route(onPrior, hi, costOf).cost > budget && hi < 1e9) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (route(onPrior, mid, costOf).cost > budget) lo = mid;
    else hi = mid;
  }
  const fit = route(onPrior, hi, costOf);
  const out = route(onReplay, hi, costOf);
  const top = [...out.shares.keys()]
    .sort((a, b) => out.shares[b] - out.shares[a])
    .slice(0, 3)
    .map((a) => `${models[a]} ${(100 * out.shares[a]).toFixed(0)}%`)
    .join(', ');
  const ofRef = ref >= 0 ? `${((100 * out.quality) / refQuality).toFixed(1)} % of the reference, ` : '';
  const overRandom = `${((100 * out.quality) / randomQuality - 100).toFixed(1)} % over random`;
  console.log(
    `${costOf} ${head}: λ ${hi.toPrecision(4)}; prior records ${fit.quality.toFixed(4)} at ${unit(fit.cost)}; routed ${out.quality.toFixed(4)} (${ofRef}${overRandom}) at ${unit(out.cost)}; ${top}`,
  );
}
