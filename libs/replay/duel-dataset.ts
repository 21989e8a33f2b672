/** One row of a pairwise file (../shared/data/README.md): the derived preference of one prompt's model pair. */
export interface PairRecord {
  id: string;
  model_a: string;
  model_b: string;
  winner: 'a' | 'b' | 'tie';
  grade_a?: number;
  grade_b?: number;
}

/**
 * Per prompt: the models with a known preference against each other, and P(a beats b) as 1 / 0 / ½. Utility for
 * regret: the grade when the file carries it (the preferences are derived from grades, so they agree).
 */
export interface DuelPrompt {
  id: string;
  prompt: string;
  /** Indices (into models) that have a grade on this prompt. */
  present: number[];
  utility: Float64Array;
  /** K×K, p[a·K + b] = P(a ≻ b); NaN where the pair has no record. */
  pref: Float64Array;
}

export interface DuelDataset {
  name: string;
  models: string[];
  prompts: DuelPrompt[];
}

export function buildDuelDataset(name: string, pairs: readonly PairRecord[], prompts: ReadonlyMap<string, string>): DuelDataset {
  const names = new Set<string>();
  for (const p of pairs) {
    names.add(p.model_a);
    names.add(p.model_b);
  }
  const models = [...names].sort();
  const K = models.length;
  const index = new Map(models.map((m, i) => [m, i]));
  const byPrompt = new Map<string, DuelPrompt>();
  for (const p of pairs) {
    let d = byPrompt.get(p.id);
    if (!d) {
      d = { id: p.id, prompt: prompts.get(p.id) ?? '', present: [], utility: new Float64Array(K).fill(NaN), pref: new Float64Array(K * K).fill(NaN) };
      byPrompt.set(p.id, d);
    }
    const a = index.get(p.model_a)!;
    const b = index.get(p.model_b)!;
    const v = p.winner === 'a' ? 1 : p.winner === 'b' ? 0 : 0.5;
    d.pref[a * K + b] = v;
    d.pref[b * K + a] = 1 - v;
    if (p.grade_a !== undefined) d.utility[a] = p.grade_a;
    if (p.grade_b !== undefined) d.utility[b] = p.grade_b;
  }
  for (const d of byPrompt.values()) for (let k = 0; k < K; k++) if (!Number.isNaN(d.utility[k])) d.present.push(k);
  return { name, models, prompts: [...byPrompt.values()].filter((d) => d.present.length >= 2) };
}
