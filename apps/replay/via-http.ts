import { defaultParams, type Algorithm } from '@app/bandits';
import { MetricsAccumulator, seededOrder, type ReplayDataset, type ReplaySpec, type RunMetrics } from '@app/replay';

/** Minimal JSON client for the public API (bearer key, problem+json errors surfaced with their detail). */
function client(base: string, key: string) {
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
 * The policy is deleted afterwards.
 */
export async function replayViaHttp(
  url: string,
  key: string | undefined,
  ds: ReplayDataset,
  best: number,
  spec: ReplaySpec,
  seed: number,
  progress: (n: number, total: number) => void,
): Promise<RunMetrics> {
  const apiKey = key ?? process.env.ADMIN_API_KEY;
  if (!apiKey) throw new Error('--via-http needs --admin-key or ADMIN_API_KEY');
  if (spec.algorithm === 'ti-ucb' || spec.algorithm === 'fgts-cdb') throw new Error(`--via-http: ${spec.algorithm} is not served by the v1 API yet (single-mode linear policies only)`);
  const call = client(url, apiKey);
  const jpt = new Map<number, number>();
  ds.models.forEach((_, k) => {
    let j = 0;
    let tok = 0;
    for (const r of ds.records) j += r.energyJ[k];
    tok = ds.records.length;
    if (ds.energyKnown && j > 0) jpt.set(k, j / tok);
  });
  for (const m of ds.models) await call('PUT', `/admin/models/${encodeURIComponent(m)}`, {});
  const policy = `replay-${spec.algorithm}-${seed}-${Date.now().toString(36)}`;
  const params = { ...spec.params } as Record<string, number>;
  const allowed = Object.keys(defaultParams(spec.algorithm as Algorithm));
  for (const k of Object.keys(params)) if (!allowed.includes(k)) delete params[k];
  await call('PUT', `/admin/policies/${policy}`, {
    algorithm: spec.algorithm,
    arms: ds.models,
    params,
    objective: spec.objective,
    features: { source: 'builtin', dim: 64 },
  });
  const index = new Map(ds.models.map((m, k) => [m, k]));
  const order = seededOrder(ds.records.length, seed).slice(0, spec.limit ?? ds.records.length);
  const metrics = new MetricsAccumulator(ds.models.length, order.length, best);
  try {
    for (const i of order) {
      const r = ds.records[i];
      const dec = await call<{ decisionId: string; model: string }>('POST', '/v1/route', { policy, input: r.prompt });
      const arm = index.get(dec.model)!;
      await call('POST', '/v1/feedback', { decisionId: dec.decisionId, reward: r.quality[arm] });
      if (ds.energyKnown) await call('POST', '/v1/energy', { decisionId: dec.decisionId, joules: r.energyJ[arm] });
      if (metrics.add(r, [arm])) progress(metrics.rounds, order.length);
    }
  } finally {
    await call('DELETE', `/admin/policies/${policy}`).catch(() => undefined);
  }
  return metrics.result();
}
