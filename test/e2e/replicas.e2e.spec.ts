import postgres from 'postgres';
import { ADMIN_KEY, client, eventually, freshEnvironment, REDIS_URL } from '../support/harness.js';
import { liveState, recordFaultResult, type Routed, sequentialFold, worstRelErr } from '../support/fold.js';
import { awaitLog } from '../support/durable-log.js';
import { spawnService } from '../support/private-services.js';
import { ClientStalls, Traffic } from '../support/traffic.js';

/**
 * Scenario 5 of the guarantees: two api and two worker processes (the built ones) on one Redis prefix and one
 * database. Each replica routes at a steady rate and its feedback is posted to the *other* replica; midway an
 * objective change is made on one and timed until the other routes with it. Afterwards the one state must equal
 * the sequential fold of every decision and accepted event of both replicas (1e-9).
 */
const DIM = 6;

describe('two api and two worker processes (scenario 5)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  const replicas: Awaited<ReturnType<typeof spawnService>>[] = [];
  let sql: postgres.Sql;

  beforeAll(async () => {
    env = await freshEnvironment('e2e_replicas');
    for (let i = 0; i < 2; i++)
      replicas.push(await spawnService({ DATABASE_URL: env.databaseUrl, REDIS_URL, REDIS_PREFIX: env.prefix, ADMIN_API_KEY: ADMIN_KEY }));
    sql = postgres(env.databaseUrl, { max: 2, onnotice: () => undefined });
  });
  afterAll(async () => {
    for (const r of replicas) r.kill();
    await sql?.end();
    await env?.drop();
  });

  it('learn into one state with nothing lost or doubled; an objective change reaches the other replica within 1 s', async () => {
    const [a, b] = replicas.map((r) => client(r.url));
    for (const m of ['m1', 'm2', 'm3']) await a.put(`/admin/models/${m}`, {});
    const put = await a.put('/admin/policies/shared', {
      algorithm: 'linucb',
      arms: ['m1', 'm2', 'm3'],
      features: { source: 'caller', dim: DIM },
      feedback: { aggregation: 'all' },
    });
    expect(put.status).toBe(201);
    // Routes made by the test itself are decisions too: kept with their features for the fold.
    const probes: Routed[] = [];
    const probe = async (x: number[]) => {
      const r = await b.post('/v1/route', { policy: 'shared', features: x });
      if (r.status === 200) probes.push({ id: r.body.decisionId, arm: r.body.model, x });
      return r;
    };
    await eventually(async () => (await probe([0, 0, 0, 0, 0, 1])).status === 200);

    const viaA = new Traffic(a, 'shared', DIM, 31, { rate: 80, feedbackVia: b }).start();
    const viaB = new Traffic(b, 'shared', DIM, 32, { rate: 80, feedbackVia: a }).start();
    await new Promise((r) => setTimeout(r, 4000));
    const patched = await a.patch('/admin/policies/shared/objective', { energy: 0.7 });
    expect(patched.status).toBe(200);
    // Pauses of this process (the test runner's heap collected) while it waits are the client's, not the replica's.
    const stalls = new ClientStalls().start();
    const t0 = Date.now();
    let seenMs = -1;
    while (seenMs < 0 && Date.now() - t0 < 5000) {
      const r = await probe([1, 0, 0, 0, 0, 0]);
      if (r.body.policyVersion === patched.body.version) seenMs = stalls.attributable([{ at: t0, ms: Date.now() - t0, status: 200 }])[0].ms;
      else await new Promise((res) => setTimeout(res, 10));
    }
    stalls.stop();
    await new Promise((r) => setTimeout(r, 4000));
    await Promise.all([viaA.stop(), viaB.stop()]);

    expect(viaA.unexpected.concat(viaB.unexpected)).toEqual([]);
    expect(seenMs).toBeGreaterThanOrEqual(0);
    expect(seenMs).toBeLessThan(1000);

    const routed = [...viaA.routed, ...viaB.routed, ...probes];
    const events = [...viaA.accepted, ...viaB.accepted];
    const want = { decisions: routed.length, events: events.length };
    await awaitLog(sql, want, 60_000);
    const err = worstRelErr(await liveState(REDIS_URL, env.prefix, 'shared'), sequentialFold(DIM, routed, events));
    expect(err).toBeLessThan(1e-9);

    recordFaultResult({
      scenario: '5. two api + two worker processes',
      injected: `80 routes/s on each api process, each route's feedback posted to the other; objective PATCH on one midway`,
      events: want.decisions + want.events,
      lost: 0,
      duplicated: err < 1e-9 ? 0 : -1,
      maxLagMs: null,
      duringFault: `objective change routed by the other replica after ${seenMs} ms (< 1 s asserted); state = fold of both replicas' ${want.decisions} decisions and ${want.events} events (1e-9)`,
    });
  }, 120_000);
});
