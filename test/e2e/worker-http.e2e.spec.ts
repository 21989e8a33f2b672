import { WorkerHttp } from '../../apps/worker/src/observability/worker-http.js';
import { client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';

type Env = Awaited<ReturnType<typeof freshEnvironment>>;

/** The worker's own probes and metrics: liveness, readiness (Redis), and job outcomes counted as it learns. */
describe('worker probes and metrics', () => {
  let env: Env;
  let svc: Running;
  let base: string;

  beforeAll(async () => {
    env = await freshEnvironment('worker_http');
    svc = await startService(env, 1, { WORKER_HTTP_PORT: '0', WORKER_HTTP_HOST: '127.0.0.1', METRICS_TOKEN: 'worker-metrics-token-0123' });
    base = `http://127.0.0.1:${svc.workers[0].get(WorkerHttp).port}`;
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
    await env?.drop();
  });

  it('answers probes, and counts the jobs it learnt by name and outcome', async () => {
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const ready = await fetch(`${base}/health/ready`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ok', dependencies: { redis: { ok: true } } }]);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/health/live`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);

    const c = client(svc.url);
    expect((await c.put('/admin/models/m', {})).status).toBe(200);
    expect((await c.put('/admin/policies/p', { algorithm: 'linucb', arms: ['m'], features: { source: 'caller', dim: 1 } })).status).toBe(201);
    const r = await c.post('/v1/route', { policy: 'p', features: [1] });
    expect((await c.post('/v1/feedback', { decisionId: r.body.decisionId, reward: 1 })).status).toBe(202);
    const scrape = async () => (await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer worker-metrics-token-0123' } })).text();
    await eventually(async () => /router_worker_jobs_total\{job="feedback",outcome="learnt"\} 1\b/.test(await scrape()));
    const text = await scrape();
    expect(text).toMatch(/router_worker_job_duration_seconds_count\{job="feedback"\} 1\b/);
    expect(text).toMatch(/router_worker_queue_jobs\{state="waiting"\} \d+/);
    expect(text).toMatch(/router_worker_process_resident_memory_bytes \d+/);
  }, 60_000);
});
