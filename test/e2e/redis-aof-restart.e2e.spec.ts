import postgres from 'postgres';
import { ADMIN_KEY, client, eventually, freshEnvironment } from '../support/harness.js';
import { liveState, recordFaultResult, sequentialFold, worstRelErr } from '../support/fold.js';
import { awaitLog, lostEvents } from '../support/durable-log.js';
import { type PrivateRedis, spawnService, startPrivateRedis } from '../support/private-services.js';
import { between, p99, Traffic } from '../support/traffic.js';

/**
 * Scenario 2 of the guarantees: a private Redis with AOF (appendfsync everysec, as shipped) is SIGKILLed during steady
 * route + feedback traffic and restarted from its file 3 s later. Routing must keep answering from the replica's
 * last policy copy; feedback that cannot be queued gets 503 + Retry-After (the client retries); nothing accepted
 * is lost or counted twice (state == sequential fold, 1e-9). The api and the worker are the built ones in child
 * processes, so the latencies measured here are the api's.
 */
const DIM = 6;
const OUTAGE_MS = 3000;

describe('Redis (AOF) killed and restarted during ingestion (scenario 2)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let redis: PrivateRedis;
  let svc: Awaited<ReturnType<typeof spawnService>>;
  let sql: postgres.Sql;

  beforeAll(async () => {
    redis = await startPrivateRedis({ aof: 'everysec' }); // as docker-compose.yml runs it
    env = await freshEnvironment('e2e_aof');
    svc = await spawnService({ DATABASE_URL: env.databaseUrl, REDIS_URL: redis.url, REDIS_PREFIX: env.prefix, ADMIN_API_KEY: ADMIN_KEY });
    sql = postgres(env.databaseUrl, { max: 2, onnotice: () => undefined });
  });
  afterAll(async () => {
    svc?.kill();
    await sql?.end();
    redis?.stop();
    await env?.drop();
  });

  it('keeps routing, answers 503 + Retry-After, and loses or doubles nothing accepted', async () => {
    const admin = client(svc.url);
    for (const m of ['a', 'b', 'c']) await admin.put(`/admin/models/${m}`, {});
    const put = await admin.put('/admin/policies/aof', {
      algorithm: 'linucb',
      arms: ['a', 'b', 'c'],
      features: { source: 'caller', dim: DIM },
      feedback: { aggregation: 'all' },
    });
    expect(put.status).toBe(201);
    await new Promise((r) => setTimeout(r, 300)); // the replica's first copy

    const traffic = new Traffic(admin, 'aof', DIM, 11, { rate: 100, retryCapMs: 500 }).start();
    await new Promise((r) => setTimeout(r, 4000));
    const killedAt = Date.now();
    redis.kill();
    // Readiness comes from background checks (every second): read it once they have seen Redis go; the outage
    // still lasts OUTAGE_MS from the kill.
    let ready = await admin.get('/health/ready');
    await eventually(async () => (ready = await admin.get('/health/ready')).body?.dependencies?.redis?.ok === false, OUTAGE_MS - 500, 100);
    await new Promise((r) => setTimeout(r, Math.max(0, killedAt + OUTAGE_MS - Date.now())));
    const restartAt = Date.now();
    await redis.restart();
    const backAt = Date.now();
    await new Promise((r) => setTimeout(r, 4000));
    await traffic.stop();

    expect([ready.status, ready.body.status, ready.body.canRoute, ready.body.dependencies.redis.ok]).toEqual([200, 'degraded', true, false]);
    expect(traffic.unexpected).toEqual([]);
    const during = between(traffic.routes, killedAt, backAt);
    expect(during.length).toBeGreaterThan(200); // routing went on through the outage (100/s for 3 s)
    expect(during.every((s) => s.status === 200)).toBe(true);
    expect(traffic.retriesAfter503).toBeGreaterThan(0); // the outage was felt by feedback

    // Everything accepted (including decisions routed during the outage, buffered by the api) is learnt once.
    const want = { decisions: traffic.routed.length, events: traffic.accepted.length };
    const learntAt = await awaitLog(sql, want, 90_000);
    const lost = await lostEvents(sql, traffic.accepted);
    expect(lost).toBe(0);
    const err = worstRelErr(await liveState(redis.url, env.prefix, 'aof'), sequentialFold(DIM, traffic.routed, traffic.accepted));
    expect(err).toBeLessThan(1e-9);

    recordFaultResult({
      scenario: '2. Redis (AOF everysec) killed and restarted',
      injected: `SIGKILL of redis-server during 100 routes/s + feedback; restarted from its AOF after ${((restartAt - killedAt) / 1000).toFixed(1)} s`,
      events: want.decisions + want.events,
      lost,
      duplicated: err < 1e-9 ? 0 : -1,
      maxLagMs: learntAt - Math.max(traffic.lastAcceptedAt, backAt),
      duringFault: `${during.length} routes all 200, p99 ${p99(during)} ms (before: ${p99(between(traffic.routes, 0, killedAt))} ms); ${traffic.retriesAfter503} feedback answers 503 + Retry-After, all retried and accepted`,
    });
  }, 180_000);
});
