import { answerSignals } from '@app/featurizer';
import { type RawOutcome, type RawRecord, type ReplayDataset } from './dataset.js';

/** A raw outcome of a response-level file: the per-prompt outcome plus the model's answer text. */
interface RawResponse {
  response?: string;
}

/**
 * What a cascade replay reads beyond a per-prompt dataset: per record and model, the answer's response-level
 * signals (answerSignals over the stored answer text), and the models in ascending order of their mean cost (the
 * price list an operator knows; an escalation only goes to a dearer model).
 */
export interface CascadeData {
  /** signals[record][model], ANSWER_SIGNALS order. */
  signals: Float64Array[][];
  /** Mean cost per request per model (USD). */
  meanCost: Float64Array;
}

/** Signals of every model's answer for each record of `records`, taken from `raw` by id. */
export function answerSignalsOf(raw: readonly RawRecord[], records: readonly { id: string; prompt: string }[], models: readonly string[]): Float64Array[][] {
  const byId = new Map(raw.map((r) => [r.id, r]));
  return records.map((rec) => {
    const r = byId.get(rec.id);
    return models.map((m) => {
      const out: (RawOutcome & RawResponse) | undefined = r?.outcomes[m];
      if (typeof out?.response !== 'string') throw new Error(`record ${rec.id}: no response text for ${m} (a cascade replay needs a response-level file)`);
      return answerSignals({ prompt: rec.prompt, answer: out.response }).vector;
    });
  });
}

export function cascadeData(raw: readonly RawRecord[], ds: ReplayDataset): CascadeData {
  const K = ds.models.length;
  const meanCost = new Float64Array(K);
  for (const r of ds.records) for (let k = 0; k < K; k++) meanCost[k] += r.costUsd[k] / Math.max(1, ds.records.length);
  return { signals: answerSignalsOf(raw, ds.records, ds.models), meanCost };
}

/** Arms not yet called that cost more than `current` (mean cost), the escalation targets. */
export function dearerArms(meanCost: Float64Array, current: number, called: readonly number[]): number[] {
  const out: number[] = [];
  for (let k = 0; k < meanCost.length; k++) if (!called.includes(k) && meanCost[k] > meanCost[current]) out.push(k);
  return out;
}

/** The cheapest arm by mean cost. */
export function cheapestArm(meanCost: Float64Array): number {
  let best = 0;
  for (let k = 1; k < meanCost.length; k++) if (meanCost[k] < meanCost[best]) best = k;
  return best;
}
