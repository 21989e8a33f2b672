import { createRng, type Rng, sampleBeta } from '@app/bandits';
import { type ReplayDataset, seededOrder } from '@app/replay';

/**
 * Measurement, not product: learners that are told each prompt's task (which no request carries) and keep one
 * table of per-model running means per task, with no features at all. What such a learner gets on one online pass
 * bounds what any cold-start learner can hope for from knowing the task alone.
 */
export interface TaskTable {
  /** The model to serve a prompt of task t. */
  pick(t: number, rng: Rng): number;
  /** The served model's score. */
  observe(t: number, arm: number, score: number): void;
}

/** Per (task, model): plays and the sum of their scores; per model the same over every task. */
class Counts {
  readonly n: Float64Array;
  readonly sum: Float64Array;
  readonly all: Float64Array;
  readonly allSum: Float64Array;
  readonly seen: Float64Array;

  constructor(
    tasks: number,
    readonly arms: number,
  ) {
    this.n = new Float64Array(tasks * arms);
    this.sum = new Float64Array(tasks * arms);
    this.all = new Float64Array(arms);
    this.allSum = new Float64Array(arms);
    this.seen = new Float64Array(tasks);
  }

  observe(t: number, a: number, score: number): void {
    this.n[t * this.arms + a]++;
    this.sum[t * this.arms + a] += score;
    this.all[a]++;
    this.allSum[a] += score;
    this.seen[t]++;
  }

  /** The model with the largest index value (first on ties). */
  argmax(value: (a: number) => number): number {
    let best = 0;
    let top = -Infinity;
    for (let a = 0; a < this.arms; a++) {
      const v = value(a);
      if (v > top) [top, best] = [v, a];
    }
    return best;
  }
}

/** UCB1 per task: mean + c·√(ln n_t / n_{t,a}); each model tried once per task first, in random order. */
export function ucbTable(tasks: number, arms: number, c: number): TaskTable {
  const k = new Counts(tasks, arms);
  return {
    pick: (t, rng) =>
      k.argmax((a) => {
        const i = t * arms + a;
        return k.n[i] === 0 ? Number.MAX_VALUE * rng.next() : k.sum[i] / k.n[i] + c * Math.sqrt(Math.log(k.seen[t]) / k.n[i]);
      }),
    observe: (t, a, score) => k.observe(t, a, score),
  };
}

/**
 * Beta–Bernoulli Thompson sampling per task (a score in [0, 1] counts as that fraction of a success) from Beta(1, 1),
 * or, with `strength` > 0, from a Beta prior centred on the model's mean over every task so far and worth up to
 * `strength` observations: what is learnt about a model in one task moves its start in the others.
 */
export function thompsonTable(tasks: number, arms: number, strength = 0): TaskTable {
  const k = new Counts(tasks, arms);
  return {
    pick: (t, rng) =>
      k.argmax((a) => {
        const i = t * arms + a;
        const w = Math.min(strength, k.all[a]);
        const g = (k.allSum[a] + 1) / (k.all[a] + 2);
        return sampleBeta(1 + w * g + k.sum[i], 1 + w * (1 - g) + k.n[i] - k.sum[i], rng);
      }),
    observe: (t, a, score) => k.observe(t, a, score),
  };
}

/** Mean quality of one online pass in the replay's seeded order of `seed`, the learner told each record's task. */
export function replayTaskTable(ds: ReplayDataset, taskOf: readonly number[], table: TaskTable, seed: number): number {
  const rng = createRng(seed * 2654435761);
  let total = 0;
  for (const i of seededOrder(ds.records.length, seed)) {
    const r = ds.records[i];
    const a = table.pick(taskOf[i], rng);
    total += r.quality[a];
    table.observe(taskOf[i], a, r.quality[a]);
  }
  return total / ds.records.length;
}
