import { MAX_PRIOR_INPUT_CHARS } from '@app/contracts';
import { type RawRecord } from './dataset.js';

/** One offline outcome as the prior endpoint takes it (POST /admin/policies/{name}/prior). */
export interface PriorScoreRecord {
  input: string;
  model: string;
  score: number;
}

/**
 * The (prompt, model, score) outcomes of one per-prompt record for the given models, in the order of `models`:
 * models outside `models` do not count, nor outcomes without a finite score in [0, 1], nor a prompt longer than
 * the prior endpoint takes.
 */
export function recordOutcomes(r: RawRecord, models: readonly string[]): PriorScoreRecord[] {
  if (typeof r.prompt !== 'string' || r.prompt.length > MAX_PRIOR_INPUT_CHARS) return [];
  const out: PriorScoreRecord[] = [];
  for (const model of models) {
    const score = r.outcomes?.[model]?.score;
    if (typeof score === 'number' && Number.isFinite(score) && score >= 0 && score <= 1) out.push({ input: r.prompt, model, score });
  }
  return out;
}

/**
 * Every outcome of per-prompt records (incomplete ones contribute those they have) for the given models, in file
 * order. The one mapping of the replay's warm start and of `npm run prior:upload`, so both fit the prior on the
 * same observations in the same order.
 */
export const priorRecords = (raw: readonly RawRecord[], models: readonly string[]): PriorScoreRecord[] => raw.flatMap((r) => recordOutcomes(r, models));
