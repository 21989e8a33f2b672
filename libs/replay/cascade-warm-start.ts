import { featurize } from '@app/featurizer';
import { escalationFeatures } from '@app/learning';
import { answerSignalsOf, dearerArms } from './cascade-data.js';
import { buildDataset, type RawRecord, type SideInfo } from './dataset.js';
import { type Outcome } from './policies.js';

/** Observations the escalation policy learns before the online pass: arm, features φ and outcome. */
export type WarmEscalation = { arm: number; phi: Float64Array; outcome: Outcome }[];

/**
 * Warm start of the escalation policy from offline response-level records (the prior part of `--prior-split`, or
 * `--prior-data`): for every record with an answer of each replayed model and every (answered, dearer target) pair,
 * at the answer's features φ, the answered model's arm learns its score (what accepting gives) and the target's arm
 * the target's score (what escalating gives), each with that model's cost and energy. These are ordinary
 * observations of the additive statistics, so the online pass simply continues from them.
 */
export function escalationWarmStart(raw: readonly RawRecord[], side: SideInfo, models: readonly string[], meanCost: Float64Array, dim: number): WarmEscalation {
  const K = models.length;
  const out: WarmEscalation = [];
  const warm = buildDataset('escalation warm start', raw, side, models);
  const signals = answerSignalsOf(raw, warm.records, models);
  warm.records.forEach((r, i) => {
    const x = featurize(r.prompt, dim);
    const outcome = (k: number): Outcome => ({ quality: r.quality[k], costUsd: r.costUsd[k], energyJ: r.energyJ[k] });
    for (let a = 0; a < K; a++)
      for (const b of dearerArms(meanCost, a, [a])) {
        const phi = escalationFeatures({ answered: a, next: b, arms: K, signals: signals[i][a], context: x });
        out.push({ arm: a, phi, outcome: outcome(a) }, { arm: b, phi, outcome: outcome(b) });
      }
  });
  return out;
}
