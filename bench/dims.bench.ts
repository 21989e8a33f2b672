import { adminClient } from './support/admin-client.js';
import { cpuSampler } from './support/process-cpu.js';
import { startBuiltService } from './support/service.js';

/**
 * Route latency and the api's CPU as a policy's feature dimension grows: the same steady load (ROUTES routes/s and
 * FEEDBACK feedback events/s on decisions routed earlier, for SECONDS) on a LinUCB policy of 16 arms with the
 * built-in featurizer at each `dim` in turn, with the worker learning and the replica recompiling as it goes. A
 * decision costs O(K·d²) and a recompile O(K·d³): what this shows is how much of the route path the recompiles
 * take at a large dim. Prints per dim the route p50, p99 and max and the api's CPU (ms per second), and each
 * against d = 64 in the same run.
 * Usage: npm run bench:dims [-- routes feedback seconds dims]   e.g. `-- 100 80 15 64,128,256`
 */
const [ROUTES = 100, FEEDBACK = 80, SECONDS = 15] = process.argv.slice(2, 5).map(Number);
const DIMS = (process.argv[5] ?? '64,128,256').split(',').map(Number);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

async function run(dim: number, port: number) {
  const svc = await startBuiltService(port, {});
  const { post, close } = adminClient(svc.base, 32);
  try {
    const arms = Array.from({ length: 16 }, (_, i) => `m${i}`);
    for (const m of arms) await svc.call('PUT', `/admin/models/${m}`, { energy: { joulesPerOutputToken: 0.1 + 0.05 * Number(m.slice(1)) } });
    await svc.call('PUT', '/admin/policies/dims', { algorithm: 'linucb', arms, features: { source: 'builtin', dim }, feedback: { aggregation: 'all' } });
    await new Promise((r) => setTimeout(r, 500));
    const decisions: string[] = [];
    const prompt = (i: number) => `question ${i % 50} about topic ${i % 7}: explain it step by step with an example`;
    for (let i = 0; i < 100; i++) decisions.push((await post('/v1/route', { policy: 'dims', input: prompt(i) })).body.decisionId);
    const api = cpuSampler(() => [svc.pids.api]);
    const latencies: number[] = [];
    const inflight: Promise<unknown>[] = [];
    let failed = 0;
    const owed = { route: 0, feedback: 0 };
    const t0 = performance.now();
    while (performance.now() - t0 < SECONDS * 1000) {
      const elapsed = (performance.now() - t0) / 1000;
      while (owed.route < Math.floor(ROUTES * elapsed)) {
        const i = owed.route++;
        const sent = performance.now();
        inflight.push(
          post('/v1/route', { policy: 'dims', input: prompt(i) }).then((r) => {
            latencies.push(performance.now() - sent);
            if (r.status === 200) decisions.push(r.body.decisionId);
            else failed++;
          }),
        );
      }
      while (owed.feedback < Math.floor(FEEDBACK * elapsed)) {
        owed.feedback++;
        const decisionId = decisions[Math.floor(Math.random() * decisions.length)];
        inflight.push(post('/v1/feedback', { decisionId, reward: Math.random() }).then((r) => r.status === 202 || failed++));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(inflight);
    const cpuMsPerS = (api() * 1000) / SECONDS;
    return { dim, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: quantile(latencies, 1), cpuMsPerS, failed };
  } finally {
    await close();
    await svc.stop();
  }
}

console.error(`dims bench: ${ROUTES} routes/s + ${FEEDBACK} feedback/s for ${SECONDS} s, K = 16, dims ${DIMS.join(', ')}`);
const rows = [];
for (const [i, dim] of DIMS.entries()) rows.push(await run(dim, 3931 + i));
const base = rows.find((r) => r.dim === 64) ?? rows[0];
for (const r of rows)
  console.log(
    `d=${r.dim}: route p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms; api CPU ${r.cpuMsPerS.toFixed(0)} ms/s; ` +
      `${r.failed} not accepted | against d=${base.dim}: p99 ${(r.p99 / base.p99).toFixed(2)}x, api CPU ${(r.cpuMsPerS / base.cpuMsPerS).toFixed(2)}x`,
  );
