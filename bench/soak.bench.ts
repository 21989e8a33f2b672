import { rssMb } from './support/process-cpu.js';
import { startBuiltService } from './support/service.js';

/**
 * Scenario 7 of the guarantees: a steady mixed load on the built api and worker (child processes) for a long
 * time, sampling each process's resident memory, the queue lag and the learning backlog every 10 s.
 * Per second: RATE routes (text input, 6 arms, LinUCB), a reward for 80 % of them, an energy reading for 50 %.
 * It fails (exit 1) on any error answer, on a queue lag above 5 s, or when a process's RSS grows by more than
 * RSS_BOUND_MB between the end of warm-up (the first quarter of the run, at least 60 s, at most half) and the end
 * (medians of three samples at each end).
 * Usage: npm run bench:soak [-- seconds rate]     (defaults: 600 s, 100 routes/s)
 */
const [seconds = 600, rate = 100] = process.argv.slice(2).map(Number);
const RSS_BOUND_MB = 64;
const LAG_BOUND_S = 5;
const SAMPLE_MS = 10_000;

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

const svc = await startBuiltService(3911);
let failed: boolean;
try {
  const arms = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];
  for (const m of arms) await svc.call('PUT', `/admin/models/${m}`, {});
  await svc.call('PUT', '/admin/policies/soak', { algorithm: 'linucb', arms });
  await new Promise((r) => setTimeout(r, 500));
  const words = ['explain', 'solve', 'translate', 'write', 'code', 'poem', 'sum', 'list', 'why', 'compare'];
  const errors = new Map<string, number>();
  const latencies: number[] = [];
  let routes = 0;
  let rewards = 0;
  let readings = 0;
  const one = async (i: number) => {
    const t = performance.now();
    const r = await fetch(`${svc.base}/v1/route`, {
      method: 'POST',
      headers: { authorization: 'Bearer bench-admin-key-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ policy: 'soak', input: `${words[i % 10]} item ${i} about ${words[(i * 7) % 10]}` }),
    });
    latencies.push(performance.now() - t);
    const body = (await r.json()) as { decisionId: string; model: string };
    if (r.status !== 200) return void errors.set(`route ${r.status}`, (errors.get(`route ${r.status}`) ?? 0) + 1);
    routes++;
    const send = async (path: string, payload: unknown) => {
      const s = await fetch(`${svc.base}${path}`, {
        method: 'POST',
        headers: { authorization: 'Bearer bench-admin-key-0123456789', 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
      await s.arrayBuffer();
      if (s.status !== 202) errors.set(`${path} ${s.status}`, (errors.get(`${path} ${s.status}`) ?? 0) + 1);
      return s.status === 202;
    };
    const good = Number(body.model.slice(1)) === i % 6 ? 1 : 0;
    if (i % 5 !== 0 && (await send('/v1/feedback', { decisionId: body.decisionId, reward: good }))) rewards++;
    if (i % 2 === 0 && (await send('/v1/energy', { decisionId: body.decisionId, joules: 50 + Number(body.model.slice(1)) * 10, latencyMs: 300 }))) readings++;
  };

  const warmupS = Math.min(Math.max(60, seconds / 4), seconds / 2);
  const samples: { t: number; api: number; worker: number; lag: number; backlog: number; p99: number; loopP99: number; loopMax: number }[] = [];
  const t0 = performance.now();
  let sent = 0;
  let inflight = 0;
  let nextSample = SAMPLE_MS;
  console.error(`soak: ${rate} routes/s (+80 % rewards, +50 % readings) for ${seconds} s; warm-up ${warmupS} s`);
  // The api's event-loop delay (its own blocking work) beside the routes' p99 (which also counts waiting for
  // Redis and for a CPU): prom-client resets the delay histogram at each scrape, so each row is one window.
  console.log('| t (s) | api RSS (MB) | worker RSS (MB) | queue lag (s) | learning backlog | route p99 (ms) | api event-loop delay p99 / max (ms) |');
  console.log('|---|---|---|---|---|---|---|');
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (sent < due && inflight < 200) {
      inflight++;
      void one(sent++)
        .catch((e: Error) => errors.set(`exception ${e.message}`, (errors.get(`exception ${e.message}`) ?? 0) + 1))
        .finally(() => inflight--);
    }
    if (performance.now() - t0 >= nextSample) {
      nextSample += SAMPLE_MS;
      const metrics = await (await fetch(`${svc.base}/metrics`)).text();
      const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN);
      const lag = metric('router_queue_lag_seconds');
      const stats = (await svc.call('GET', '/admin/policies/soak/stats')) as { feedback: number };
      const s = {
        t: Math.round((performance.now() - t0) / 1000),
        api: rssMb(svc.pids.api),
        worker: rssMb(svc.pids.worker),
        lag,
        backlog: rewards - stats.feedback,
        p99: quantile(latencies.splice(0), 0.99),
        loopP99: metric('router_nodejs_eventloop_lag_p99_seconds') * 1000,
        loopMax: metric('router_nodejs_eventloop_lag_max_seconds') * 1000,
      };
      samples.push(s);
      console.log(
        `| ${s.t} | ${s.api.toFixed(1)} | ${s.worker.toFixed(1)} | ${s.lag.toFixed(2)} | ${s.backlog} | ${s.p99.toFixed(1)} | ${s.loopP99.toFixed(1)} / ${s.loopMax.toFixed(1)} |`,
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  while (inflight > 0) await new Promise((r) => setTimeout(r, 50));
  // Everything accepted must be learnt.
  const tEnd = performance.now();
  let stats = (await svc.call('GET', '/admin/policies/soak/stats')) as { decisions: number; feedback: number; energyReadings: number };
  while ((stats.decisions < routes || stats.feedback < rewards || stats.energyReadings < readings) && performance.now() - tEnd < 60_000) {
    await new Promise((r) => setTimeout(r, 200));
    stats = (await svc.call('GET', '/admin/policies/soak/stats')) as typeof stats;
  }
  const drainS = (performance.now() - tEnd) / 1000;
  const warm = samples.filter((s) => s.t >= warmupS);
  // Growth: median of the last three samples minus median of the first three after warm-up (one GC cycle's
  // swing is not growth).
  const med3 = (xs: number[]) => quantile(xs, 0.5);
  const growth = (k: 'api' | 'worker') => (warm.length > 1 ? med3(warm.slice(-3).map((s) => s[k])) - med3(warm.slice(0, 3).map((s) => s[k])) : NaN);
  const peak = (k: 'api' | 'worker') => Math.max(...samples.map((s) => s[k]));
  const maxLag = Math.max(...samples.map((s) => s.lag));
  console.log(
    `\nsent ${routes} routes, ${rewards} rewards, ${readings} readings; learnt ${stats.decisions} / ${stats.feedback} / ${stats.energyReadings} (drained ${drainS.toFixed(1)} s after the load stopped)`,
  );
  console.log(`errors: ${errors.size === 0 ? 'none' : JSON.stringify(Object.fromEntries(errors))}`);
  console.log(
    `RSS growth after warm-up (median of the last 3 samples − median of the first 3): api ${growth('api').toFixed(1)} MB (peak ${peak('api').toFixed(1)}), worker ${growth('worker').toFixed(1)} MB (peak ${peak('worker').toFixed(1)}); bound ${RSS_BOUND_MB} MB`,
  );
  console.log(
    `max queue lag ${maxLag.toFixed(2)} s (bound ${LAG_BOUND_S} s); route p99 per 10 s window: median ${quantile(
      samples.map((s) => s.p99),
      0.5,
    ).toFixed(1)} ms, worst ${Math.max(...samples.map((s) => s.p99)).toFixed(1)} ms; api event-loop delay p99 per window: median ${quantile(
      samples.map((s) => s.loopP99),
      0.5,
    ).toFixed(1)} ms, worst max ${Math.max(...samples.map((s) => s.loopMax)).toFixed(1)} ms`,
  );
  const learntAll = stats.decisions === routes && stats.feedback === rewards && stats.energyReadings === readings;
  failed = errors.size > 0 || maxLag > LAG_BOUND_S || !(growth('api') <= RSS_BOUND_MB) || !(growth('worker') <= RSS_BOUND_MB) || !learntAll;
  console.log(failed ? 'SOAK FAILED' : 'soak ok');
} finally {
  await svc.stop();
}
process.exit(failed ? 1 : 0);
