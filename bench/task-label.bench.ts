import { type PolicyAlgorithm } from '@app/bandits';
import { featurize } from '@app/featurizer';
import { loadDataset, meanSd, reference, runReplay, type ReplayDataset } from '@app/replay';
import { benchArgs, replayDataPath } from './support/bench-args.js';
import { replayTaskTable, type TaskTable, thompsonTable, ucbTable } from './support/task-tables.js';

/**
 * Measurement, not product: how much of a cold start's distance to the per-task best is the featurizer's? The same
 * online pass (every record, seeded orders) once on the built-in featurizer's vectors and once on a perfect task
 * feature: the bias and a one-hot of the record's task label (which no request carries), scaled to unit norm like
 * the featurizer's vectors. If the task feature does no better, what is left is the learner's cost of exploring.
 * Then learners without features that are told the task and keep a table of running means per task and model
 * (UCB1 at several exploration constants, Beta–Bernoulli Thompson sampling, the same with each task's start shrunk
 * toward the model's mean over all tasks), same orders: the best of them, picked
 * in hindsight, is about as much as knowing the task can give on one pass.
 *
 * Usage: npm run build && node dist/bench/task-label.bench.js [--data FILE] [--algorithm linucb] [--alpha 0.5]
 *        [--seeds 5] [--dim 64]
 */
const args = benchArgs();
const file = args.get('data') ?? 'routerdc_7x7b_models.jsonl';
const algorithm = (args.get('algorithm') ?? 'linucb') as PolicyAlgorithm;
const alpha = Number(args.get('alpha') ?? 0.5);
const seeds = Number(args.get('seeds') ?? 5);
const dim = Number(args.get('dim') ?? 64);
const path = replayDataPath(file);

const ds = loadDataset(path);
const tasks = [...new Set(ds.records.map((r) => r.task))].sort();
if (tasks.length + 1 > dim) throw new Error(`${tasks.length} tasks do not fit in dim ${dim}`);

/** x = (1, onehot(task)) / √2. */
function taskVector(task: string): Float64Array {
  const x = new Float64Array(dim);
  x[0] = Math.SQRT1_2;
  x[1 + tasks.indexOf(task)] = Math.SQRT1_2;
  return x;
}

function replay(data: ReplayDataset, features: Float64Array[]): string {
  const ref = reference(data);
  const best = data.models.indexOf(ref.bestSingle.model);
  const spec = { algorithm, objective: { quality: 1, energy: 0, cost: 0, latency: 0 }, params: { alpha }, delay: 0 };
  const q = meanSd(Array.from({ length: seeds }, (_, s) => runReplay(data, features, best, spec, s).quality));
  return `${q.mean.toFixed(4)} ± ${q.sd.toFixed(4)}`;
}

const ref = reference(ds);
console.log(
  `${ds.name}: ${ds.records.length} prompts, ${tasks.length} tasks, ${algorithm} alpha=${alpha}, ${seeds} seeds, dim ${dim}; ` +
    `best single ${ref.bestSingle.quality.toFixed(4)}, per-task best ${ref.perTaskBest.quality.toFixed(4)}`,
);
console.log(
  `  built-in featurizer: ${replay(
    ds,
    ds.records.map((r) => featurize(r.prompt, dim)),
  )}`,
);
console.log(
  `  task label one-hot:  ${replay(
    ds,
    ds.records.map((r) => taskVector(r.task)),
  )}`,
);

const taskOf = ds.records.map((r) => tasks.indexOf(r.task));
function tabular(name: string, make: () => TaskTable): void {
  const q = meanSd(Array.from({ length: seeds }, (_, s) => replayTaskTable(ds, taskOf, make(), s)));
  console.log(`  per-task table, ${name.padEnd(14)} ${q.mean.toFixed(4)} ± ${q.sd.toFixed(4)}`);
}
for (const c of [0.1, 0.2, 0.3, 0.5, 1]) tabular(`UCB1 c=${c}`, () => ucbTable(tasks.length, ds.models.length, c));
tabular('Thompson', () => thompsonTable(tasks.length, ds.models.length));
for (const w of [10, 30, 100]) tabular(`shared TS w=${w}`, () => thompsonTable(tasks.length, ds.models.length, w));
