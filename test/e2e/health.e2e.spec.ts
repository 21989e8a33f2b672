import { randomBytes } from 'node:crypto';
import { migrate } from '../../scripts/migrate.js';
import { HealthController } from '../../apps/api/src/health/health.controller.js';
import { client, deleteRedisPrefix, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';
import { freePort, type PrivatePostgres, type PrivateRedis, startPrivatePostgres, startPrivateRedis } from '../support/private-services.js';

/**
 * Readiness means "this replica can route": 200 while it holds a policy copy, whatever Redis and Postgres do,
 * with the degraded dependencies named; 503 only when it has never loaded a copy (or is shutting down). The
 * dependency report shows each dependency's state, latency and last error. The real api (and a worker) run in
 * this process against a private Redis and a private Postgres that the tests stop and start.
 */
const METRICS_TOKEN = 'health-metrics-token-0123456789';

type Ready = { status: number; body: any };

describe('readiness and the dependency report through Redis and Postgres outages', () => {
  let redis: PrivateRedis;
  let pg: PrivatePostgres;
  let svc: Running;
  let admin: ReturnType<typeof client>;
  let anonymous: ReturnType<typeof client>;
  const prefix = `thealth${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    [redis, pg] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
    await migrate(pg.url, undefined, () => undefined);
    svc = await startService({ databaseUrl: pg.url, prefix }, 1, { REDIS_URL: redis.url, METRICS_TOKEN });
    admin = client(svc.url);
    anonymous = client(svc.url, '');
    for (const m of ['a', 'b']) expect((await admin.put(`/admin/models/${m}`, {})).status).toBeLessThan(300);
    expect((await admin.put('/admin/policies/hp', { algorithm: 'linucb', arms: ['a', 'b'] })).status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await svc?.close();
    redis?.stop();
    pg?.destroy();
  });

  const ready = () => anonymous.get('/health/ready');
  const deps = () => admin.get('/health/dependencies');
  const routes = async () => (await admin.post('/v1/route', { policy: 'hp', input: 'is this replica still routing?' })).status;

  it('all up: ready 200 "ok"; the report lists every dependency with its latency, behind METRICS_TOKEN', async () => {
    await eventually(async () => (await ready()).body?.status === 'ok');
    const r: Ready = await ready();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', canRoute: true, routing: { policies: 1, refreshing: true } });
    for (const d of ['redis', 'postgres', 'queue']) expect(r.body.dependencies[d]).toMatchObject({ ok: true, latencyMs: expect.any(Number) });
    expect(JSON.stringify(r.body)).not.toMatch(/error/i); // the public probe names states, not error messages

    // The worker's queue connection registers (CLIENT SETNAME) shortly after it starts: wait for it to be listed.
    await eventually(async () => (await deps()).body?.dependencies?.queue?.details?.workers === 1);
    const report = await deps();
    expect(report.status).toBe(200);
    expect(report.headers.get('cache-control')).toBe('no-store');
    for (const d of ['redis', 'postgres', 'queue'])
      expect(report.body.dependencies[d]).toMatchObject({ ok: true, latencyMs: expect.any(Number), lastError: null, consecutiveFailures: 0 });
    expect(report.body.dependencies.queue.details).toMatchObject({ waiting: expect.any(Number), failed: 0, workers: 1 });
    expect(report.body.routing).toMatchObject({ policies: 1, models: 2, lastRefreshError: null });
    // Like /metrics: METRICS_TOKEN or an admin key when METRICS_TOKEN is set.
    expect((await anonymous.get('/health/dependencies')).status).toBe(401);
    expect((await client(svc.url, METRICS_TOKEN).get('/health/dependencies')).status).toBe(200);
  });

  it('Postgres stopped: still ready (200, "degraded", postgres named), routing goes on; back to "ok" after', async () => {
    await pg.stop();
    const outageAt = Date.now();
    await eventually(async () => (await ready()).body?.dependencies?.postgres?.ok === false);
    const r: Ready = await ready();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'degraded', canRoute: true, dependencies: { postgres: { ok: false }, redis: { ok: true }, queue: { ok: true } } });
    expect(Date.parse(r.body.dependencies.postgres.since)).toBeGreaterThanOrEqual(outageAt);
    for (let i = 0; i < 5; i++) expect(await routes()).toBe(200);

    const report = await deps();
    expect(report.status).toBe(200);
    expect(report.body.status).toBe('degraded');
    expect(report.body.dependencies.postgres).toMatchObject({ ok: false, lastError: { message: expect.stringMatching(/\S/) } });
    expect(report.body.dependencies.postgres.consecutiveFailures).toBeGreaterThan(0);
    expect(report.body.dependencies.redis.ok).toBe(true);
    // The routed decisions reach the worker, which cannot write them and pauses the queue (the outage pause).
    await eventually(async () => (await deps()).body.dependencies.queue.details?.learningPausedForMs > 0, 15_000, 100);

    await pg.start();
    await eventually(async () => (await ready()).body?.status === 'ok', 20_000, 200);
    const after = (await deps()).body.dependencies.postgres;
    expect(after).toMatchObject({ ok: true, consecutiveFailures: 0 });
    expect(after.lastError.message).toMatch(/\S/); // kept after recovery: what happened stays visible
    expect(Date.parse(after.lastOkAt)).toBeGreaterThan(Date.parse(after.lastError.at));
  }, 60_000);

  it('Redis and Postgres both away: still ready from the policy copy, every dependency reported down', async () => {
    redis.kill();
    await pg.stop();
    await eventually(async () => {
      const d = (await ready()).body?.dependencies;
      return d?.redis?.ok === false && d?.postgres?.ok === false && d?.queue?.ok === false;
    });
    const r: Ready = await ready();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'degraded', canRoute: true, routing: { policies: 1, refreshing: false } });
    expect(r.body.routing.copyAgeMs).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < 5; i++) expect(await routes()).toBe(200);

    const report = await deps();
    expect(report.status).toBe(200);
    for (const d of ['redis', 'postgres', 'queue'])
      expect(report.body.dependencies[d]).toMatchObject({ ok: false, lastError: { message: expect.stringMatching(/\S/) } });
    expect(report.body.routing.lastRefreshError).toEqual(expect.any(String));
    expect(Date.parse(report.body.routing.lastRefreshOkAt)).toBeLessThan(Date.now());
    // Probes answer from the background checks: at once, however many, without waiting for a timeout.
    const t = Date.now();
    await Promise.all(Array.from({ length: 20 }, () => ready()));
    expect(Date.now() - t).toBeLessThan(1000);

    await Promise.all([redis.restart(), pg.start()]);
    await eventually(async () => (await ready()).body?.status === 'ok', 30_000, 200);
    expect((await ready()).status).toBe(200);
  }, 90_000);
});

describe('readiness of a replica that has never loaded a policy copy', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let redis: PrivateRedis | undefined;
  let port: number;

  beforeAll(async () => {
    env = await freshEnvironment('e2e_health');
    port = await freePort(); // nothing listens there yet: the api starts with Redis away
    svc = await startService(env, 0, { REDIS_URL: `redis://127.0.0.1:${port}` });
  }, 60_000);
  afterAll(async () => {
    await svc?.close();
    redis?.stop();
    await deleteRedisPrefix(env.prefix).catch(() => undefined);
    await env?.drop();
  });

  it('answers 503 "unavailable" until Redis is reached and a copy loaded, then 200; 503 "stopping" at shutdown', async () => {
    const anonymous = client(svc.url, '');
    const before: Ready = await anonymous.get('/health/ready');
    expect(before.status).toBe(503);
    expect(before.body).toMatchObject({
      status: 'unavailable',
      canRoute: false,
      routing: { copyAgeMs: null },
      dependencies: { redis: { ok: false }, postgres: { ok: true } },
    });
    const report = await client(svc.url).get('/health/dependencies');
    expect(report.status).toBe(200); // the report always answers (no METRICS_TOKEN here: open)
    expect(report.body).toMatchObject({ status: 'unavailable', canRoute: false, dependencies: { redis: { ok: false, lastOkAt: null } } });
    expect((await anonymous.get('/health/live')).status).toBe(200);

    redis = await startPrivateRedis({ port });
    await eventually(async () => (await anonymous.get('/health/ready')).status === 200, 20_000, 200);
    expect((await anonymous.get('/health/ready')).body.canRoute).toBe(true);
    await eventually(async () => (await anonymous.get('/health/ready')).body.dependencies.redis.ok === true); // next check

    // Shutdown begins (Nest calls onModuleDestroy before closing the server): load balancers are told to leave.
    svc.api.get(HealthController).onModuleDestroy();
    const stopping: Ready = await anonymous.get('/health/ready');
    expect([stopping.status, stopping.body.status, stopping.body.canRoute]).toEqual([503, 'stopping', false]);
  }, 60_000);
});
