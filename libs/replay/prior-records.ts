import { MAX_PRIOR_COST_USD, MAX_PRIOR_INPUT_CHARS, MAX_READING_JOULES } from '@app/contracts';
import { meanOutputTokens, outcomeSpend, type RawRecord, type SideInfo } from './dataset.js';

/** One offline outcome as the prior endpoint takes it (POST /admin/policies/{name}/prior). */
export interface PriorScoreRecord {
  input: string;
  model: string;
  score: number;
  /** What the call cost and the GPU energy it took, where the data says (the replay's own rule, outcomeSpend). */
  costUsd?: number;
  energyJoules?: number;
}

/** Prices, J/token and the per-model mean output tokens the outcomes' cost and energy are computed with. */
export interface SpendInfo {
  side: SideInfo;
  meanTokens: ReadonlyMap<string, number>;
}

/**
 * The (prompt, model, score) outcomes of one per-prompt record for the given models, in the order of `models`:
 * models outside `models` do not count, nor outcomes without a finite score in [0, 1], nor a prompt longer than
 * the prior endpoint takes. With `spend`, each outcome also carries its cost and energy where the data has them.
 */
export function recordOutcomes(r: RawRecord, models: readonly string[], spend?: SpendInfo): PriorScoreRecord[] {
  if (typeof r.prompt !== 'string' || r.prompt.length > MAX_PRIOR_INPUT_CHARS) return [];
  const out: PriorScoreRecord[] = [];
  for (const model of models) {
    const score = r.outcomes?.[model]?.score;
    if (!(typeof score === 'number' && Number.isFinite(score) && score >= 0 && score <= 1)) continue;
    const rec: PriorScoreRecord = { input: r.prompt, model, score };
    if (spend) {
      const { costUsd, energyJ } = outcomeSpend(r, model, spend.side, spend.meanTokens);
      if (costUsd !== undefined && Number.isFinite(costUsd) && costUsd >= 0 && costUsd <= MAX_PRIOR_COST_USD) rec.costUsd = costUsd;
      if (energyJ !== undefined && Number.isFinite(energyJ) && energyJ >= 0 && energyJ <= MAX_READING_JOULES) rec.energyJoules = energyJ;
    }
    out.push(rec);
  }
  return out;
}

/**
 * Every outcome of per-prompt records (incomplete ones contribute those they have) for the given models, in file
 * order, with its cost and energy when `side` (the file's prices and energy profiles) is given; missing output
 * token counts fall back to each model's mean over these records. The one mapping of the replay's warm start and
 * of `npm run prior:upload`, so both fit the prior on the same observations in the same order.
 */
export function priorRecords(raw: readonly RawRecord[], models: readonly string[], side?: SideInfo): PriorScoreRecord[] {
  const spend = side ? { side, meanTokens: meanOutputTokens(raw, models) } : undefined;
  return raw.flatMap((r) => recordOutcomes(r, models, spend));
}
