import { type ObjectiveWeights } from '@app/bandits';
import { type Budget } from '@app/contracts';
import { type Reference } from './reference.js';
import { type RunMetrics } from './run-metrics.js';
import { meanSd, type MeanSd } from './summary.js';

/** One algorithm × objective setting over several seeds (the `results[]` entry of DESIGN.md §5's JSON). */
export interface ResultRow {
  algorithm: string;
  objective: ObjectiveWeights;
  seeds: number;
  quality: MeanSd;
  costUsd: MeanSd;
  energyJ: MeanSd;
  regretVsBestSingle: MeanSd;
  regretVsOracle: MeanSd;
  share: Record<string, number>;
  /** Mean over seeds of the running mean quality. */
  curve: { round: number; quality: number }[];
  /** Over seeds, the largest running mean spend per request from round 300 on. */
  maxRunningMean: { costUsd: number; energyJ: number };
  /** The budget the policy paced to (absent without --budget). */
  budget?: Budget;
}

export function aggregate(algorithm: string, objective: ObjectiveWeights, models: readonly string[], runs: readonly RunMetrics[], budget?: Budget): ResultRow {
  const share: Record<string, number> = {};
  models.forEach((m, k) => (share[m] = runs.reduce((s, r) => s + r.share[k], 0) / runs.length));
  return {
    algorithm,
    objective,
    seeds: runs.length,
    quality: meanSd(runs.map((r) => r.quality)),
    costUsd: meanSd(runs.map((r) => r.costUsd)),
    energyJ: meanSd(runs.map((r) => r.energyJ)),
    regretVsBestSingle: meanSd(runs.map((r) => r.regretVsBestSingle)),
    regretVsOracle: meanSd(runs.map((r) => r.regretVsOracle)),
    share,
    curve: runs[0].curve.map((p, i) => ({ round: p.round, quality: runs.reduce((s, r) => s + r.curve[i].quality, 0) / runs.length })),
    maxRunningMean: {
      costUsd: Math.max(...runs.map((r) => r.maxRunningMean.costUsd)),
      energyJ: Math.max(...runs.map((r) => r.maxRunningMean.energyJ)),
    },
    ...(budget ? { budget } : {}),
  };
}

const objectiveLabel = (o: ObjectiveWeights) =>
  Object.entries(o)
    .filter(([k, v]) => v !== 0 || k === 'quality')
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

const pm = (m: MeanSd, digits: number, scale = 1) => `${(m.mean * scale).toFixed(digits)} ± ${(m.sd * scale).toFixed(digits)}`;

/** The human-readable table printed to stdout. */
export function formatTable(ref: Reference, rows: readonly ResultRow[], energyKnown: boolean, rounds: number): string {
  const b = ref.bestSingle;
  const lines = [
    `reference: best single ${b.model} quality ${b.quality.toFixed(4)} cost $${b.costUsd.toExponential(3)}${energyKnown ? ` energy ${b.energyJ.toFixed(2)} J` : ''}; ` +
      `oracle ${ref.oracleQuality.toFixed(4)}; random ${ref.randomQuality.toFixed(4)} cost $${ref.randomCostUsd.toExponential(3)}${energyKnown ? ` energy ${ref.randomEnergyJ.toFixed(2)} J` : ''}; ` +
      `per-task best ${ref.perTaskBest.quality.toFixed(4)} cost $${ref.perTaskBest.costUsd.toExponential(3)}`,
    '',
    ['algorithm', 'objective', 'quality', 'cost USD (x1e-3)', energyKnown ? 'energy J' : '', 'regret vs best', 'regret vs oracle', 'top shares']
      .filter(Boolean)
      .join(' | '),
  ];
  // The fixed references, as rows: regret is expected over a pass of `rounds` prompts.
  const fixed = (name: string, q: number, c: number, e: number, share: string) => {
    const cells = [name, '(hindsight)', q.toFixed(4), (c * 1e3).toFixed(4)];
    if (energyKnown) cells.push(e.toFixed(2));
    cells.push((rounds * (b.quality - q)).toFixed(1), (rounds * (ref.oracleQuality - q)).toFixed(1), share);
    lines.push(cells.join(' | '));
  };
  fixed(`best single`, b.quality, b.costUsd, b.energyJ, `${b.model.split('/').pop()} 100%`);
  fixed('random', ref.randomQuality, ref.randomCostUsd, ref.randomEnergyJ, 'uniform');
  fixed('per-task best', ref.perTaskBest.quality, ref.perTaskBest.costUsd, ref.perTaskBest.energyJ, 'best model of each task');
  for (const r of rows) {
    const shares = Object.entries(r.share)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 3)
      .map(([m, s]) => `${m.split('/').pop()} ${(100 * s).toFixed(0)}%`)
      .join(', ');
    const cells = [r.algorithm, objectiveLabel(r.objective), pm(r.quality, 4), pm(r.costUsd, 4, 1e3)];
    if (energyKnown) cells.push(pm(r.energyJ, 2));
    cells.push(pm(r.regretVsBestSingle, 1), pm(r.regretVsOracle, 1), shares);
    lines.push(cells.join(' | '));
    if (r.budget) lines.push(`  ${budgetLine(r)}`);
  }
  return lines.join('\n');
}

/** How a budget row kept to its limits: the worst running mean from round 300 on, over the seeds. */
function budgetLine(r: ResultRow): string {
  const parts: string[] = [];
  const over = (worst: number, limit: number) => `${worst >= limit ? '+' : ''}${((worst / limit - 1) * 100).toFixed(1)} %`;
  if (r.budget?.costUsdPerRequest !== undefined) {
    const b = r.budget.costUsdPerRequest;
    parts.push(
      `cost ≤ $${b.toExponential(3)}: mean $${r.costUsd.mean.toExponential(3)}, worst running mean from round 300 $${r.maxRunningMean.costUsd.toExponential(3)} (${over(r.maxRunningMean.costUsd, b)})`,
    );
  }
  if (r.budget?.energyJoulesPerRequest !== undefined) {
    const b = r.budget.energyJoulesPerRequest;
    parts.push(
      `energy ≤ ${b.toFixed(2)} J: mean ${r.energyJ.mean.toFixed(2)} J, worst running mean from round 300 ${r.maxRunningMean.energyJ.toFixed(2)} J (${over(r.maxRunningMean.energyJ, b)})`,
    );
  }
  return `budget: ${parts.join('; ')}`;
}
