import { type PolicyPrior } from '@app/contracts';
import { featurize } from '@app/featurizer';
import { addToStartSample, emptyStartSample, fitPrior, measuredHeads, type PriorObservation, toPolicyPrior } from '@app/learning';
import { type RawRecord, type ReplayDataset } from './dataset.js';
import { priorRecords, type PriorScoreRecord, recordOutcomes } from './prior-records.js';
import { inPriorPart } from './prior-split.js';

/** Where a replay's warm start came from (the `prior` block of the JSON report). */
export interface WarmStartReport {
  source: 'data' | 'split';
  file?: string;
  fraction?: number;
  /** Per-prompt records the prior was fitted on (those with at least one outcome of a replayed model). */
  records: number;
  /** (prompt, model, score) outcomes fitted. */
  outcomes: number;
  replayedRecords: number;
  weight: number;
}

export interface WarmStart {
  prior: PolicyPrior;
  /** The sample of the fitted prompts' contexts the service keeps (start-sample.ts): where a budget's start price is searched. */
  contexts: Float64Array[];
  /** The outcomes fitted, as the prior endpoint takes them (for `--via-http`). */
  records: PriorScoreRecord[];
  /** The dataset to replay (for a split, without the records fitted on). */
  dataset: ReplayDataset;
  report: WarmStartReport;
}

/**
 * The prior the service installs from these outcomes on a policy whose arms are `models`, with builtin features
 * of dimension `dim`: each input featurised as a live request, fitted with fitPrior (what POST …/prior fits, in one
 * call or in appending calls alike) and converted with toPolicyPrior.
 */
export function fitReplayPrior(
  records: readonly PriorScoreRecord[],
  models: readonly string[],
  dim: number,
  maxWeight: number,
  contexts = priorContexts(records, dim),
): PolicyPrior {
  const armIndex = new Map(models.map((m, i) => [m, i]));
  const obs: PriorObservation[] = records.map((r) => {
    const arm = armIndex.get(r.model);
    if (arm === undefined) throw new Error(`prior record for ${r.model}, which is not replayed`);
    return { arm, x: contexts.get(r.input)!, r: r.score, measured: measuredHeads(r) };
  });
  return toPolicyPrior(models, fitPrior(models.length, dim, obs, maxWeight), records.length, new Date(0).toISOString());
}

/** Each distinct input of the records featurised as a live request. */
export function priorContexts(records: readonly PriorScoreRecord[], dim: number): Map<string, Float64Array> {
  const contexts = new Map<string, Float64Array>();
  for (const r of records) if (!contexts.has(r.input)) contexts.set(r.input, featurize(r.input, dim));
  return contexts;
}

function warmStart(
  fit: readonly RawRecord[],
  dataset: ReplayDataset,
  dim: number,
  weight: number,
  source: Pick<WarmStartReport, 'source' | 'file' | 'fraction'>,
): WarmStart {
  const records = priorRecords(fit, dataset.models, dataset.side);
  const contexts = priorContexts(records, dim);
  return {
    prior: fitReplayPrior(records, dataset.models, dim, weight, contexts),
    contexts: addToStartSample(emptyStartSample(), [...contexts.values()], dim).contexts,
    records,
    dataset,
    report: {
      ...source,
      records: fit.filter((r) => recordOutcomes(r, dataset.models).length > 0).length,
      outcomes: records.length,
      replayedRecords: dataset.records.length,
      weight,
    },
  };
}

/** `--prior-data FILE`: the prior fitted on every outcome of another file's records; the whole dataset replayed. */
export const warmStartFromFile = (file: string, raw: readonly RawRecord[], ds: ReplayDataset, dim: number, weight: number): WarmStart =>
  warmStart(raw, ds, dim, weight, { source: 'data', file });

/**
 * `--prior-split F`: the prior fitted on the records of the data file (`raw`, complete or not) whose id falls in
 * the fraction F (inPriorPart); only the other complete records are replayed, so the reference rows computed on
 * the returned dataset compare like with like.
 */
export function warmStartFromSplit(fraction: number, raw: readonly RawRecord[], ds: ReplayDataset, dim: number, weight: number): WarmStart {
  const replayed = { ...ds, records: ds.records.filter((r) => !inPriorPart(r.id, fraction)) };
  return warmStart(
    raw.filter((r) => inPriorPart(r.id, fraction)),
    replayed,
    dim,
    weight,
    { source: 'split', fraction },
  );
}
