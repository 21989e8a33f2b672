import { type ReplayDataset } from './dataset.js';

export interface ModelSummary {
  model: string;
  quality: number;
  costUsd: number;
  energyJ: number;
}

/** The fixed points every learner is compared with (per-request means over the dataset's complete records). */
export interface Reference {
  bestSingle: ModelSummary;
  oracleQuality: number;
  randomQuality: number;
  randomCostUsd: number;
  randomEnergyJ: number;
  perModel: ModelSummary[];
  /** Best fixed model per task in hindsight (what a hand-written per-task if/else could reach at best). */
  perTaskBest: { quality: number; costUsd: number; energyJ: number };
}

export function reference(ds: ReplayDataset): Reference {
  const K = ds.models.length;
  const n = ds.records.length;
  const perModel = ds.models.map((model, k) => {
    let q = 0;
    let c = 0;
    let e = 0;
    for (const r of ds.records) {
      q += r.quality[k];
      c += r.costUsd[k];
      e += r.energyJ[k];
    }
    return { model, quality: q / n, costUsd: c / n, energyJ: e / n };
  });
  const bestSingle = perModel.reduce((b, m) => (m.quality > b.quality ? m : b), perModel[0]);
  let oracle = 0;
  for (const r of ds.records) oracle += Math.max(...r.quality);
  const tasks = new Map<string, number[]>();
  ds.records.forEach((r, i) => tasks.set(r.task, [...(tasks.get(r.task) ?? []), i]));
  let tq = 0;
  let tc = 0;
  let te = 0;
  for (const idx of tasks.values()) {
    let best = 0;
    let bestQ = -Infinity;
    for (let k = 0; k < K; k++) {
      const q = idx.reduce((s, i) => s + ds.records[i].quality[k], 0);
      if (q > bestQ) {
        bestQ = q;
        best = k;
      }
    }
    for (const i of idx) {
      tq += ds.records[i].quality[best];
      tc += ds.records[i].costUsd[best];
      te += ds.records[i].energyJ[best];
    }
  }
  const avg = (f: (m: ModelSummary) => number) => perModel.reduce((s, m) => s + f(m), 0) / K;
  return {
    bestSingle,
    oracleQuality: oracle / n,
    randomQuality: avg((m) => m.quality),
    randomCostUsd: avg((m) => m.costUsd),
    randomEnergyJ: avg((m) => m.energyJ),
    perModel,
    perTaskBest: { quality: tq / n, costUsd: tc / n, energyJ: te / n },
  };
}
