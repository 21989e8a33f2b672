import { adminClient } from './support/admin-client.js';
import { startBuiltService } from './support/service.js';

/**
 * Routes while an admin works: how long `/v1/route` waits on a replica while it answers the heavy admin calls, an
 * off-policy evaluation of a trade-off (what the dashboard's slider asks), a frontier, a warm-start prior upload and
 * a budget whose starting price is searched. A LinUCB policy of 16 arms at d = DIM first serves DECISIONS routes that
 * all get feedback; then a probe sends one route every 5 ms, first alone (the baseline), then during each admin call
 * in turn. Prints per phase the admin call's duration and the probe's p50, p99 and max, and the max against the
 * baseline's in the same run.
 * Usage: npm run bench:admin-work [-- decisions dim]   e.g. `-- 20000 64`, `-- 5000 256`
 */
const DECISIONS = Number(process.argv[2] ?? 20_000);
const DIM = Number(process.argv[3] ?? 64);
const PORT = 3971;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const prompt = (i: number) => `${['explain', 'solve', 'translate', 'write code for', 'summarise'][i % 5]} item ${i % 300} about topic ${i % 7}`;

const svc = await startBuiltService(PORT, {});
const { post, close } = adminClient(svc.base, 32);
try {
  const arms = Array.from({ length: 16 }, (_, i) => `m${i}`);
  for (const [i, m] of arms.entries())
    await svc.call('PUT', `/admin/models/${m}`, {
      pricing: { inputPerMTok: 0.2 * (i + 1), outputPerMTok: 0.6 * (i + 1) },
      energy: { joulesPerOutputToken: 0.1 + 0.05 * i },
    });
  await svc.call('PUT', '/admin/policies/adm', { algorithm: 'linucb', arms, features: { source: 'builtin', dim: DIM }, feedback: { aggregation: 'all' } });
  await new Promise((r) => setTimeout(r, 500));

  console.error(`admin-work bench: ${DECISIONS} decisions with feedback, 16 arms, d = ${DIM}`);
  const decisions: { id: string; arm: string }[] = [];
  for (let i = 0; i < DECISIONS; i += 64) {
    const got = await Promise.all(Array.from({ length: Math.min(64, DECISIONS - i) }, (_, k) => post('/v1/route', { policy: 'adm', input: prompt(i + k) })));
    for (const r of got) if (r.status === 200) decisions.push({ id: r.body.decisionId, arm: r.body.model });
  }
  for (let i = 0; i < decisions.length; i += 500) {
    const events = decisions.slice(i, i + 500).map((d, k) => ({ decisionId: d.id, reward: Number(d.arm.slice(1)) % 3 === (i + k) % 3 ? 1 : 0 }));
    await post('/v1/feedback/batch', { events });
  }
  for (let t = 0; t < 600; t++) {
    if (((await svc.call('GET', '/admin/policies/adm/stats')).feedback as number) >= decisions.length) break;
    await new Promise((r) => setTimeout(r, 500));
  }

  /** Sequential routes every 5 ms until `work` settles; the admin call's duration and the routes' latencies. */
  const probeDuring = async (work: () => Promise<unknown>) => {
    const latencies: number[] = [];
    let done = false;
    const t0 = performance.now();
    const running = work().finally(() => (done = true));
    while (!done) {
      const sent = performance.now();
      const r = await post('/v1/route', { policy: 'adm', input: prompt(latencies.length) });
      if (r.status !== 200) throw new Error(`route ${r.status}`);
      latencies.push(performance.now() - sent);
      await new Promise((r) => setTimeout(r, 5));
    }
    const result = await running;
    return { ms: performance.now() - t0, latencies, result };
  };
  const expectOk = (path: string, body: unknown) => async () => {
    const r = await post(path, body);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.body;
  };
  const priorRecords = Array.from({ length: 10_000 }, (_, i) => ({
    input: prompt(i * 7),
    model: arms[i % 16],
    score: (i % 5) / 4,
    costUsd: 1e-4 * (1 + (i % 16)),
  }));
  const phases: [string, () => Promise<unknown>][] = [
    ['idle (5 s)', () => new Promise((r) => setTimeout(r, 5000))],
    ['evaluate (energy weight 1)', expectOk('/admin/policies/adm/evaluate', { candidate: { objective: { energy: 1 } } })],
    ['frontier (5 cost weights)', expectOk('/admin/policies/adm/frontier', { weight: 'cost', values: [0, 0.1, 0.5, 1, 2] })],
    ['prior upload (10,000 records)', expectOk('/admin/policies/adm/prior', { records: priorRecords })],
    ['budget set (start price searched)', () => svc.call('PATCH', '/admin/policies/adm/budget', { budget: { costUsdPerRequest: 2e-4 } })],
  ];
  const rows = [];
  for (const [name, work] of phases) {
    const { ms, latencies } = await probeDuring(work);
    rows.push({ name, ms, n: latencies.length, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: quantile(latencies, 1) });
  }
  const base = rows[0];
  for (const r of rows)
    console.log(
      `${r.name}: ${r.ms.toFixed(0)} ms; ${r.n} probe routes p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms` +
        ` | max against idle ${(r.max / base.max).toFixed(1)}x`,
    );
} finally {
  await close();
  await svc.stop();
}
