import { emptyEscalationStats, type EscalationStats, recordEscalationOutcome } from '@app/bandits';
import { featurize } from '@app/featurizer';
import { escalationDim, escalationFeatures } from '@app/learning';
import { answerSignalsOf, dearerArms } from './cascade-data.js';
import { type RawRecord } from './dataset.js';

/**
 * Warm start of the escalation policy from offline response-level records (the prior part of `--prior-split`, or
 * `--prior-data`): for every record with an answer of each replayed model and every (answered, dearer target) pair,
 * the first head learns the answered model's score and the second the target's, at the answer's features. These are
 * ordinary observations of the additive statistics, so the online pass simply continues from them.
 */
export function escalationWarmStart(raw: readonly RawRecord[], models: readonly string[], meanCost: Float64Array, dim: number): EscalationStats {
  const K = models.length;
  const stats = emptyEscalationStats(escalationDim(K, dim));
  const usable = raw.filter((r) => models.every((m) => r.outcomes[m] !== undefined && Number.isFinite(r.outcomes[m].score)));
  const signals = answerSignalsOf(usable, usable, models);
  usable.forEach((r, i) => {
    const x = featurize(r.prompt, dim);
    for (let a = 0; a < K; a++)
      for (const b of dearerArms(meanCost, a, [a])) {
        const phi = escalationFeatures({ answered: a, next: b, arms: K, signals: signals[i][a], context: x });
        recordEscalationOutcome(stats, 'first', phi, r.outcomes[models[a]].score);
        recordEscalationOutcome(stats, 'second', phi, r.outcomes[models[b]].score);
      }
  });
  return stats;
}
