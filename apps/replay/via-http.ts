import { defaultParams } from '@app/bandits';
import { MetricsAccumulator, preference, replayRegistry, seededOrder, type ReplayDataset, type ReplaySpec, type RunMetrics } from '@app/replay';
import { type PriorUpload, uploadPrior } from './upload-prior.js';

/** Minimal JSON client for the public API (bearer key, problem+json errors surfaced with their detail). */
export function client(base: string, key: string) {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(new URL(path, base), {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

/**
 * The same pass as runReplay, through a running service: registers the dataset's models (with their J/token when
 * known), creates a fresh policy, then per prompt POST /v1/route with the prompt text, and reports the revealed
 * quality as POST /v1/feedback and the request's energy as POST /v1/energy. Learning goes through the whole loop
 * (queue, worker, Redis, Postgres, replica refresh), so feedback reaches routing after the service's real delay.
 * Cost is learnt from the models' registry prices only (v1 has no cost event), so cost weights act on priors.
 * fgts-cdb runs in duel mode: the preference derived from the two scores goes to /v1/feedback/pairwise.
 * With `prior`, its records are uploaded to the new policy (POST …/prior, in appending chunks) before the first
 * route. The policy is deleted afterwards.
 */
export async function replayViaHttp(
  url: string,
  key: string | undefined,
  ds: ReplayDataset,
  best: number,
  spec: ReplaySpec,
  seed: number,
  progress: (n: number, total: number) => void,
  prior?: PriorUpload,
): Promise<RunMetrics> {
  const apiKey = key ?? process.env.ADMIN_API_KEY;
  if (!apiKey) throw new Error('--via-http needs --admin-key or ADMIN_API_KEY');
  const call = client(url, apiKey);
  const registry = replayRegistry(ds);
  for (const m of ds.models) {
    const { id: _id, ...config } = registry.models.get(m)!;
    await call('PUT', `/admin/models/${encodeURIComponent(m)}`, config);
  }
  const policy = `replay-${spec.algorithm}-${seed}-${Date.now().toString(36)}`;
  const params = { ...spec.params } as Record<string, number>;
  const allowed = Object.keys(defaultParams(spec.algorithm));
  for (const k of Object.keys(params)) if (!allowed.includes(k)) delete params[k];
  if (spec.budgetGain !== undefined) params.budgetGain = spec.budgetGain;
  if (spec.budgetStartGain !== undefined) params.budgetStartGain = spec.budgetStartGain;
  params.expectedInputTokens = registry.expectedTokens.input;
  params.expectedOutputTokens = registry.expectedTokens.output;
  await call('PUT', `/admin/policies/${policy}`, {
    algorithm: spec.algorithm,
    arms: ds.models,
    params,
    objective: spec.objective,
    features: { source: 'builtin', dim: 64 },
    ...(spec.budget ? { budget: spec.budget } : {}),
  });
  const index = new Map(ds.models.map((m, k) => [m, k]));
  const order = seededOrder(ds.records.length, seed).slice(0, spec.limit ?? ds.records.length);
  const metrics = new MetricsAccumulator(ds.models.length, order.length, best);
  try {
    if (prior) await uploadPrior(call, policy, prior);
    for (const i of order) {
      const r = ds.records[i];
      const duel = spec.algorithm === 'fgts-cdb' && ds.models.length >= 2;
      const dec = await call<{ decisionId: string; models: string[] }>('POST', '/v1/route', { policy, input: r.prompt, ...(duel ? { mode: 'duel' } : {}) });
      const arms = dec.models.map((m) => index.get(m)!);
      if (duel) {
        const p = preference(r.quality[arms[0]], r.quality[arms[1]]);
        await call('POST', '/v1/feedback/pairwise', { decisionId: dec.decisionId, winner: p === 0.5 ? 'tie' : dec.models[p === 1 ? 0 : 1] });
      } else await call('POST', '/v1/feedback', { decisionId: dec.decisionId, reward: r.quality[arms[0]] });
      if (ds.energyKnown)
        for (const a of arms) await call('POST', '/v1/energy', { decisionId: dec.decisionId, joules: r.energyJ[a], ...(duel ? { model: ds.models[a] } : {}) });
      if (metrics.add(r, arms)) progress(metrics.rounds, order.length);
    }
  } finally {
    await call('DELETE', `/admin/policies/${policy}`).catch(() => undefined);
  }
  return metrics.result();
}
