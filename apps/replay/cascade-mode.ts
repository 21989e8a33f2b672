import { DEFAULT_ESCALATION_PARAMS, type EscalationParams, type ObjectiveWeights } from '@app/bandits';
import { featurize } from '@app/featurizer';
import {
  cascadeData,
  escalationWarmStart,
  inPriorPart,
  readJsonl,
  reference,
  runCascade,
  summarizeCascade,
  type CascadeSummary,
  type RawRecord,
  type ReplayDataset,
  type WarmStart,
} from '@app/replay';
import { type ReplayArgs, UsageError } from './args.js';
import { replaySpec } from './replay-spec.js';

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** What --cascade needs from main: the data path, the dataset to replay, its warm start and the file the prior came from. */
export interface CascadeInput {
  args: ReplayArgs;
  path: string;
  ds: ReplayDataset;
  warm?: WarmStart;
  /** --prior-data resolved, when given. */
  priorDataPath?: string;
}

function escalationParams(p: Record<string, number>): EscalationParams {
  return {
    ridge: p.escalationRidge ?? DEFAULT_ESCALATION_PARAMS.ridge,
    v: p.escalationV ?? DEFAULT_ESCALATION_PARAMS.v,
    epsilon: p.escalationEpsilon ?? DEFAULT_ESCALATION_PARAMS.epsilon,
  };
}

/** --cascade: one row per (algorithm, objective), mean ± sd over seeds; returns the JSON report. */
export function cascadeMode({ args, path, ds, warm, priorDataPath }: CascadeInput): unknown {
  const mode = args.cascade!;
  const raw = readJsonl<RawRecord>(path);
  const data = cascadeData(raw, ds);
  const params = escalationParams(args.params);
  const audit = args.params.audit ?? 0.05;
  if (!(audit >= 0 && audit <= 1)) throw new UsageError('--params audit must be in [0, 1]');
  let warmRaw: RawRecord[] | undefined;
  if (priorDataPath !== undefined) warmRaw = readJsonl<RawRecord>(priorDataPath);
  else if (args.priorSplit !== undefined) warmRaw = raw.filter((r) => inPriorPart(r.id, args.priorSplit!));
  const warmEscalation = warmRaw && mode !== 'check' ? escalationWarmStart(warmRaw, ds.side, ds.models, data.meanCost, args.dim) : undefined;
  if (warmEscalation) log(`escalation warm start: ${warmEscalation.length / 2} (answer, dearer model) pairs from ${warmRaw!.length} records`);
  const features = ds.records.map((r) => featurize(r.prompt, args.dim));
  const ref = reference(ds);
  const rows: (CascadeSummary & { algorithm: string; objective: ObjectiveWeights })[] = [];
  for (const algorithm of args.algorithms)
    for (const objective of args.objectives) {
      const runs = Array.from({ length: args.seeds }, (_, seed) => {
        const t0 = Date.now();
        const m = runCascade(
          ds,
          features,
          data,
          {
            ...replaySpec(args, algorithm, objective, warm),
            first: mode === 'routed' ? 'routed' : 'cheapest',
            escalation: mode === 'check' ? 'check' : 'learned',
            maxSteps: args.cascadeSteps,
            audit,
            escalationParams: params,
            warmEscalation,
          },
          seed,
        );
        log(
          `${algorithm} ${JSON.stringify(objective)} seed ${seed}: quality ${m.quality.toFixed(4)} cost $${m.costUsd.toExponential(3)} escalations ${pct(m.escalationRate)} (${Date.now() - t0} ms)`,
        );
        return m;
      });
      rows.push({ algorithm, objective, ...summarizeCascade(ds.models, runs) });
    }
  const cheapest = data.meanCost.indexOf(Math.min(...data.meanCost));
  console.log(
    `${ds.name} cascade (${mode}, at most ${args.cascadeSteps} calls; ${ds.records.length} prompts, ${args.seeds} seeds${warm ? ', warm start' : ''})`,
  );
  for (const m of ref.perModel) console.log(`  ${m.model}: quality ${m.quality.toFixed(4)} cost $${m.costUsd.toExponential(3)}`);
  console.log(`  oracle ${ref.oracleQuality.toFixed(4)}`);
  for (const r of rows) {
    const calls = ds.models.map((m) => `${m} ${pct(r.callShare[m].mean)}`).join(', ');
    console.log(
      `${r.algorithm} ${JSON.stringify(r.objective)} | quality ${r.quality.mean.toFixed(4)} ± ${r.quality.sd.toFixed(4)} | cost $${r.costUsd.mean.toExponential(3)} | escalations ${pct(r.escalationRate.mean)} | calls: ${calls}`,
    );
    if (ds.models.length === 2) {
      // Random escalation from the cheapest model at the same rate: its expected quality, for comparison.
      const p = r.escalationRate.mean;
      const other = 1 - cheapest;
      console.log(
        `    random escalation at ${pct(p)} from the cheapest: quality ${((1 - p) * ref.perModel[cheapest].quality + p * ref.perModel[other].quality).toFixed(4)}`,
      );
    }
  }
  return {
    dataset: ds.name,
    models: ds.models,
    mode: 'cascade',
    cascade: { mode, maxSteps: args.cascadeSteps, audit, escalation: params },
    reference: { perModel: ref.perModel, oracleQuality: ref.oracleQuality, bestSingle: ref.bestSingle },
    results: rows,
    ...(warm ? { prior: warm.report } : {}),
  };
}
