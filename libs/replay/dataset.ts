import { type Model } from '@app/contracts';
/**
 * Replay data (docs/benchmarks.md, "Replay data files"), reduced to what a replay needs: per prompt the text and,
 * per model, quality (score), cost (USD) and GPU energy (J). Only complete records are kept (the README's
 * reference statistics use complete records too).
 */
export interface ReplayRecord {
  id: string;
  task: string;
  prompt: string;
  /** Per model (dataset.models order). */
  quality: Float64Array;
  costUsd: Float64Array;
  energyJ: Float64Array;
}

export interface ReplayDataset {
  name: string;
  models: string[];
  records: ReplayRecord[];
  /** False when some model has no energy profile (closed models): energy figures are then not reported. */
  energyKnown: boolean;
  /** False when cost had to be skipped for some model (no price anywhere). */
  costKnown: boolean;
  /** Records dropped as incomplete for the selected models. */
  skipped: number;
  /** Prices and J/token of the models (models.json, energy_profiles.json). */
  side: SideInfo;
  /** Mean prompt tokens and mean output tokens (over the models) of the kept records. */
  meanTokens: { input: number; output: number };
}

export interface RawOutcome {
  score: number;
  tokens?: number;
  cost_usd?: number;
}

export interface RawRecord {
  id: string;
  task: string;
  prompt: string;
  prompt_tokens_est?: number;
  outcomes: Record<string, RawOutcome>;
}

/** USD per 1M tokens from models.json, or undefined when "unknown". */
export interface Price {
  input: number;
  output: number;
}

export interface SideInfo {
  prices: ReadonlyMap<string, Price>;
  joulesPerToken: ReadonlyMap<string, number>;
}

/**
 * Builds a dataset from parsed records. Cost: the record's `cost_usd`, else models.json prices × (prompt tokens,
 * output tokens); a missing output-token count uses the model's mean over the records that have one (RouteLLM MMLU
 * has none). Energy: J per output token × output tokens, with the same fallback for the token count.
 */
export function buildDataset(name: string, raw: readonly RawRecord[], side: SideInfo, only?: readonly string[]): ReplayDataset {
  const seen = new Set<string>();
  for (const r of raw) for (const m of Object.keys(r.outcomes)) seen.add(m);
  const models = only ? [...only] : [...seen].sort();
  for (const m of models) if (!seen.has(m)) throw new Error(`model ${m} does not occur in ${name}`);
  const meanTokens = meanOutputTokens(raw, models);
  const energyKnown = models.every((m) => side.joulesPerToken.has(m));
  let costKnown = true;
  const records: ReplayRecord[] = [];
  let skipped = 0;
  let inTok = 0;
  let outTok = 0;
  for (const r of raw) {
    if (!models.every((m) => r.outcomes[m] !== undefined && Number.isFinite(r.outcomes[m].score))) {
      skipped++;
      continue;
    }
    const k = models.length;
    const rec: ReplayRecord = {
      id: r.id,
      task: r.task,
      prompt: r.prompt,
      quality: new Float64Array(k),
      costUsd: new Float64Array(k),
      energyJ: new Float64Array(k),
    };
    models.forEach((m, i) => {
      const spend = outcomeSpend(r, m, side, meanTokens);
      rec.quality[i] = r.outcomes[m].score;
      if (spend.costUsd !== undefined) rec.costUsd[i] = spend.costUsd;
      else costKnown = false;
      rec.energyJ[i] = spend.energyJ ?? 0;
    });
    records.push(rec);
    inTok += r.prompt_tokens_est ?? 0;
    for (const m of models) outTok += outputTokens(r, m, meanTokens) / models.length;
  }
  const n = Math.max(1, records.length);
  return { name, models, records, energyKnown, costKnown, skipped, side, meanTokens: { input: inTok / n, output: outTok / n } };
}

/** Per model, its mean output tokens over the records that count them (0 when none does). */
export function meanOutputTokens(raw: readonly RawRecord[], models: readonly string[]): Map<string, number> {
  const means = new Map<string, number>();
  for (const m of models) {
    let s = 0;
    let n = 0;
    for (const r of raw) {
      const t = r.outcomes?.[m]?.tokens;
      if (t !== undefined) {
        s += t;
        n++;
      }
    }
    means.set(m, n > 0 ? s / n : 0);
  }
  return means;
}

const outputTokens = (r: RawRecord, model: string, meanTokens: ReadonlyMap<string, number>): number => r.outcomes[model].tokens ?? meanTokens.get(model) ?? 0;

/**
 * What one outcome cost and the GPU energy it took: cost = the record's `cost_usd`, else models.json prices ×
 * (prompt tokens, output tokens); energy = J per output token × output tokens; a missing output-token count is the
 * model's mean (`meanTokens`). Undefined where the data cannot say (no price, no energy profile).
 */
export function outcomeSpend(r: RawRecord, model: string, side: SideInfo, meanTokens: ReadonlyMap<string, number>): { costUsd?: number; energyJ?: number } {
  const o = r.outcomes[model];
  const tokens = outputTokens(r, model, meanTokens);
  const price = side.prices.get(model);
  const jpt = side.joulesPerToken.get(model);
  return {
    costUsd: o.cost_usd ?? (price ? ((r.prompt_tokens_est ?? 0) * price.input + tokens * price.output) / 1e6 : undefined),
    energyJ: jpt === undefined ? undefined : jpt * tokens,
  };
}

/**
 * What an operator would register and configure for these models: the registry (prices, J/token: the per-request
 * priors and the objective's fixed units) and the expected token counts (the records' means).
 */
export function replayRegistry(ds: ReplayDataset): { models: Map<string, Model>; expectedTokens: { input: number; output: number } } {
  const models = new Map<string, Model>();
  for (const id of ds.models) {
    const price = ds.side.prices.get(id);
    const jpt = ds.side.joulesPerToken.get(id);
    models.set(id, {
      id,
      enabled: true,
      ...(price ? { pricing: { inputPerMTok: price.input, outputPerMTok: price.output } } : {}),
      ...(jpt !== undefined ? { energy: { joulesPerOutputToken: jpt } } : {}),
    });
  }
  return { models, expectedTokens: ds.meanTokens };
}
