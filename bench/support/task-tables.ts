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

/** UCB1 per task: mean + c·√(ln n_t / n_{t,a}); each model tried once per task first. */
export function ucbTable(tasks: number, arms: number, c: number): TaskTable {
  const n = new Float64Array(tasks * arms);
  const sum = new Float64Array(tasks * arms);
  const seen = new Float64Array(tasks);
  return {
    pick(t, rng) {
      let best = 0;
      let top = -Infinity;
      for (let a = 0; a < arms; a++) {
        const i = t * arms + a;
        const v = n[i] === 0 ? Number.MAX_VALUE * rng.next() : sum[i] / n[i] + c * Math.sqrt(Math.log(seen[t]) / n[i]);
        if (v > top) [top, best] = [v, a];
      }
      return best;
    },
    observe(t, a, score) {
      n[t * arms + a]++;
      sum[t * arms + a] += score;
      seen[t]++;
    },
  };
}

/** Beta–Bernoulli Thompson sampling per task (a score in [0, 1] counts as that fraction of a success), Beta(1, 1) start. */
export function thompsonTable(tasks: number, arms: number): TaskTable {
  const n = new Float64Array(tasks * arms);
  const sum = new Float64Array(tasks * arms);
  return {
    pick(t, rng) {
      let best = 0;
      let top = -Infinity;
      for (let a = 0; a < arms; a++) {
        const i = t * arms + a;
        const v = sampleBeta(1 + sum[i], 1 + n[i] - sum[i], rng);
        if (v > top) [top, best] = [v, a];
      }
      return best;
    },
    observe(t, a, score) {
      n[t * arms + a]++;
      sum[t * arms + a] += score;
    },
  };
}

/**
 * Thompson sampling per task whose Beta prior is centred on the model's mean over every task so far and worth up
 * to `strength` observations: what is learnt about a model in one task moves its start in the others.
 */
export function sharedThompsonTable(tasks: number, arms: number, strength: number): TaskTable {
  const n = new Float64Array(tasks * arms);
  const sum = new Float64Array(tasks * arms);
  const all = new Float64Array(arms);
  const allSum = new Float64Array(arms);
  return {
    pick(t, rng) {
      let best = 0;
      let top = -Infinity;
      for (let a = 0; a < arms; a++) {
        const i = t * arms + a;
        const w = Math.min(strength, all[a]);
        const g = (allSum[a] + 1) / (all[a] + 2);
        const v = sampleBeta(1 + w * g + sum[i], 1 + w * (1 - g) + n[i] - sum[i], rng);
        if (v > top) [top, best] = [v, a];
      }
      return best;
    },
    observe(t, a, score) {
      n[t * arms + a]++;
      sum[t * arms + a] += score;
      all[a]++;
      allSum[a] += score;
    },
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
