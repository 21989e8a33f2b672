import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { Queue } from 'bullmq';
import { JOB, QUEUE_NAME } from '@app/contracts';
import { bullConnection } from '@app/infra';
import { migrate } from '../../scripts/migrate.js';
import { ADMIN_KEY, client, deleteRedisPrefix, eventually, REDIS_URL } from '../support/harness.js';
import { liveState, recordFaultResult, sequentialFold, worstRelErr } from '../support/fold.js';
import { awaitLog, lostEvents } from '../support/durable-log.js';
import { type PrivatePostgres, spawnService, startPrivatePostgres } from '../support/private-services.js';
import { between, p99, Traffic } from '../support/traffic.js';

/**
 * Scenario 4 of the guarantees: a private Postgres is stopped (immediate mode) for 30 s during steady route +
 * feedback traffic. Routing p99 must stay within 2x of the p99 before the outage, feedback keeps being accepted
 * (held in the queue, retried by the worker, persisted once Postgres is back), readiness reports the degradation
 * and recovers, and the state equals the sequential fold of everything accepted (1e-9). While Postgres is away
 * the worker pauses the queue instead of failing jobs: no job spends a retry on the outage, and the held events
 * are persisted within seconds of Postgres' return, not after the retry backoff (up to 30 s). The api and the worker
 * are the built ones in child processes, so the measured latencies are the api's, not this test process's.
 * Traffic uses a route-scoped key, so authentication must also survive the outage.
 */
const DIM = 6;
// As long as the outage: p99 of ~1,200 samples (12 s) moved by 2x between runs with the same short stalls of
// 30-100 ms before and during the outage; equal windows compare like with like.
const NORMAL_MS = 33_000;
const OUTAGE_MS = 30_000;

describe('Postgres stopped for 30 s during traffic (scenario 4)', () => {
  let pg: PrivatePostgres;
  let svc: Awaited<ReturnType<typeof spawnService>>;
  let sql: postgres.Sql;
  let url: string;
  const prefix = `tpgout${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    await migrate(pg.url, undefined, () => undefined);
    svc = await spawnService({ DATABASE_URL: pg.url, REDIS_URL, REDIS_PREFIX: prefix, ADMIN_API_KEY: ADMIN_KEY });
    url = svc.url;
    sql = postgres(pg.url, { max: 2, onnotice: () => undefined });
  });
  afterAll(async () => {
    svc?.kill();
    await sql?.end({ timeout: 1 });
    pg?.destroy();
    await deleteRedisPrefix(prefix);
  });

  it('keeps routing fast, holds the events, reports degraded readiness, then persists everything once', async () => {
    const admin = client(url);
    for (const m of ['a', 'b', 'c']) await admin.put(`/admin/models/${m}`, {});
    const put = await admin.put('/admin/policies/pgout', {
      algorithm: 'linucb',
      arms: ['a', 'b', 'c'],
      features: { source: 'caller', dim: DIM },
      feedback: { aggregation: 'all' },
    });
    expect(put.status).toBe(201);
    const key = await admin.post('/admin/keys', { name: 'product', scope: 'route', policies: ['pgout'] });
    expect(key.status).toBe(201);
    const traffic = new Traffic(client(url, key.body.secret), 'pgout', DIM, 23, { rate: 100 }).start();

    await new Promise((r) => setTimeout(r, NORMAL_MS));
    const stopAt = Date.now();
    await pg.stop();
    const readiness: { at: number; status: number; postgres: boolean; ms: number }[] = [];
    const probe = async () => {
      const t = Date.now();
      const r = await admin.get('/health/ready');
      readiness.push({ at: Date.now(), status: r.status, postgres: r.body?.dependencies?.postgres?.ok === true, ms: Date.now() - t });
    };
    while (Date.now() - stopAt < OUTAGE_MS) {
      await probe();
      await new Promise((r) => setTimeout(r, 1000));
    }
    const restartAt = Date.now();
    await pg.start();
    await eventually(
      async () => {
        await probe();
        return readiness[readiness.length - 1].postgres;
      },
      30_000,
      250,
    );
    const readyAgainMs = readiness[readiness.length - 1].at - restartAt;
    await new Promise((r) => setTimeout(r, 5000));
    await traffic.stop();

    // Readiness: 200 throughout (the replica routes; a load balancer keeps it), postgres reported down from the
    // background checks (every second, each failing within a second: 3 s covers check and stop), then up again.
    const inOutage = readiness.filter((r) => r.at > stopAt + 3000 && r.at < restartAt);
    expect(inOutage.length).toBeGreaterThan(20); // one probe a second: each answers at once (no hanging pool)
    expect(inOutage.every((r) => r.status === 200 && !r.postgres)).toBe(true);
    expect(readiness.every((r) => r.status === 200)).toBe(true);
    expect(Math.max(...inOutage.map((r) => r.ms))).toBeLessThan(1000); // never waits for its own timeout

    // Routing and feedback kept answering; routing's p99 within 2x of the minute before.
    expect(traffic.unexpected).toEqual([]);
    const normal = between(traffic.routes, stopAt - NORMAL_MS + 3000, stopAt); // after a 3 s warm-up
    const during = between(traffic.routes, stopAt, restartAt);
    expect(during.length).toBeGreaterThan(2000);
    expect(during.every((s) => s.status === 200)).toBe(true);
    // The p99 of ~3,000 samples is the 30th slowest: three pauses of this test process (a collection of the test
    // runner's heap, ~10 samples in flight each) decide it. The time such pauses overlapped is taken out of the
    // samples of both windows (it measured the client, not the service).
    const [normalSeen, duringSeen] = [traffic.clientStalls.attributable(normal), traffic.clientStalls.attributable(during)];
    const paused = traffic.clientStalls.stalls.reduce((ms, p) => ms + (p.to - p.from), 0);
    const [p99Normal, p99During] = [p99(normalSeen), p99(duringSeen)];
    expect(p99During).toBeLessThanOrEqual(2 * p99Normal);
    const feedbackDuring = between(traffic.feedback, stopAt, restartAt);
    expect(feedbackDuring.every((s) => s.status === 202)).toBe(true);
    expect(traffic.retriesAfter503).toBe(0);

    // Held events reach Postgres once it is back, and the state is the fold of everything accepted.
    const want = { decisions: traffic.routed.length, events: traffic.accepted.length };
    const persistedMs = (await awaitLog(sql, want, 120_000)) - restartAt;
    const lost = await lostEvents(sql, traffic.accepted);
    expect(lost).toBe(0);
    // 5.6 s measured for ~14k held events (drain time); the retry backoff took 15-16 s.
    expect(persistedMs).toBeLessThan(10_000);
    // Every job is still there (kept an hour): the feedback events they carry (single events one per job, or
    // committed in groups) are exactly the accepted ones; the decision batches carry none.
    const jobs = await completedJobs(prefix);
    expect(jobs.reduce((n, j) => n + j.feedbackEvents, 0)).toBe(traffic.accepted.length);
    expect(Math.max(...jobs.map((j) => j.attemptsMade))).toBe(1); // completed on the first counted attempt
    expect(jobs.filter((j) => j.attemptsStarted > 1).length).toBeGreaterThan(0); // ... after going back to wait
    // While paused, the worker takes one job per pause (the probe), not every held job: a worker that took all it may
    // hold (2,000) after each pause sent ~23,000 jobs back over this outage, and took the CPU the api routes with.
    // One per second of outage, plus the few in hand when it began.
    const restarts = jobs.reduce((n, j) => n + j.attemptsStarted - 1, 0);
    expect(restarts).toBeLessThan(OUTAGE_MS / 1000 + 100);
    const err = worstRelErr(await liveState(REDIS_URL, prefix, 'pgout'), sequentialFold(DIM, traffic.routed, traffic.accepted));
    expect(err).toBeLessThan(1e-9);

    recordFaultResult({
      scenario: '4. Postgres stopped for 30 s',
      injected: `pg_ctl stop -m immediate for ${((restartAt - stopAt) / 1000).toFixed(0)} s during 100 routes/s + feedback (route-scoped key)`,
      events: want.decisions + want.events,
      lost,
      duplicated: err < 1e-9 ? 0 : -1,
      maxLagMs: persistedMs,
      duringFault: `${during.length} routes all 200, p99 ${p99During} ms vs ${p99Normal} ms before (≤ 2x asserted; ${paused} ms of pauses of the measuring process taken out); ${feedbackDuring.length} feedback all 202; ${restarts} jobs sent back while paused; readiness 200 "degraded" (postgres down) throughout, postgres ok again ${readyAgainMs} ms after restart`,
    });
  }, 240_000);
});

/**
 * Every completed job of the service's queue: how many attempts each counted, how many times it was started, and
 * how many feedback events it carried.
 */
async function completedJobs(prefix: string): Promise<{ attemptsMade: number; attemptsStarted: number; feedbackEvents: number }[]> {
  const queue = new Queue(QUEUE_NAME, { connection: bullConnection(REDIS_URL), prefix: `${prefix}:bull` });
  const feedbackEvents = (name: string, data: unknown) =>
    name === JOB.feedback ? 1 : name === JOB.feedbackBatch ? (data as { events: unknown[] }).events.length : 0;
  try {
    return (await queue.getJobs(['completed'], 0, -1)).map((j) => ({
      attemptsMade: j.attemptsMade,
      attemptsStarted: j.attemptsStarted,
      feedbackEvents: feedbackEvents(j.name, j.data),
    }));
  } finally {
    await queue.close();
  }
}
