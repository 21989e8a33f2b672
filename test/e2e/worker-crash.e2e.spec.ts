import { createRng } from '@app/bandits';
import postgres from 'postgres';
import { client, eventually, freshEnvironment, REDIS_URL, type Running, startService } from '../support/harness.js';
import { awaitLog, lostEvents } from '../support/durable-log.js';
import { type Accepted, liveState, recordFaultResult, type Routed, sequentialFold, worstRelErr } from '../support/fold.js';
import { exited, type Spawned, spawnBuilt } from '../support/private-services.js';

/**
 * Scenario 1 of the guarantees: worker processes killed with SIGKILL while they ingest 50,000 accepted events,
 * then replaced. Every accepted event must be learnt exactly once: the Redis state equals the sequential fold of
 * the accepted events (1e-9) and Postgres holds each event once. The api runs in this process; the workers are
 * the built `dist/apps/worker/main.js` in child processes (WORKER_LOCK_MS 2 s, so stalled jobs return quickly).
 */
const DIM = 8;
const ARMS = ['a', 'b', 'c'];
const DECISIONS = 1000;
const FEEDBACK = 40_000;
const ENERGY = 10_000;
const BATCH = 500;

describe('worker SIGKILLed mid-ingestion (scenario 1)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let sql: postgres.Sql;
  const workers: Spawned[] = [];

  beforeAll(async () => {
    env = await freshEnvironment('e2e_crash');
    svc = await startService(env, 0);
    sql = postgres(env.databaseUrl, { max: 2, onnotice: () => undefined });
  });
  afterAll(async () => {
    for (const w of workers) w.proc.kill('SIGKILL');
    await svc.close();
    await sql.end();
    await env.drop();
  });

  const startWorker = async () => {
    const w = await spawnBuilt('worker', { DATABASE_URL: env.databaseUrl, REDIS_URL, REDIS_PREFIX: env.prefix, WORKER_LOCK_MS: '2000' });
    workers.push(w);
    return w;
  };
  const appliedEvents = async () => (await sql<{ n: number }[]>`select count(*)::int as n from events where applied`)[0].n;

  it('learns every accepted event exactly once across two SIGKILLs', async () => {
    const admin = client(svc.url);
    for (const m of ARMS) await admin.put(`/admin/models/${m}`, {});
    const put = await admin.put('/admin/policies/crash', {
      algorithm: 'linucb',
      arms: ARMS,
      features: { source: 'caller', dim: DIM },
      feedback: { aggregation: 'all' },
    });
    expect(put.status).toBe(201);
    let worker = await startWorker();

    const rng = createRng(7);
    const routed: Routed[] = [];
    for (let i = 0; i < DECISIONS; i += 50) {
      const chunk = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const x = Array.from({ length: DIM }, () => rng.normal());
          const r = await admin.post('/v1/route', { policy: 'crash', features: x });
          expect(r.status).toBe(200);
          return { id: r.body.decisionId as string, arm: r.body.model as string, x };
        }),
      );
      routed.push(...chunk);
    }

    // 50,000 events with the caller's own ids, posted 500 per request, four requests at a time.
    const events: (Accepted & { eventId: string })[] = [];
    for (let i = 0; i < FEEDBACK; i++) events.push({ eventId: `f${i}`, decisionId: routed[rng.int(DECISIONS)].id, reward: rng.next() });
    for (let i = 0; i < ENERGY; i++)
      events.push({ eventId: `e${i}`, decisionId: routed[rng.int(DECISIONS)].id, joules: 1 + 99 * rng.next(), latencyMs: 1000 * rng.next() });
    const batches: (typeof events)[] = [];
    for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
    let next = 0;
    let lastAcceptedAt = 0;
    const accepted = new Set<string>();
    const post = async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        const path = 'reward' in batch[0] ? '/v1/feedback/batch' : '/v1/energy/batch';
        const r = await admin.post(path, { events: batch });
        expect(r.status).toBe(202);
        for (const x of r.body.results as { eventId: string; status: string }[]) if (x.status === 'accepted') accepted.add(x.eventId);
        lastAcceptedAt = Date.now();
      }
    };
    const posting = Promise.all([post(), post(), post(), post()]);

    // Kill the worker twice while it is busy, each time with events still queued, and start a new one.
    const kills: number[] = [];
    for (const at of [8_000, 25_000]) {
      await eventually(async () => (await appliedEvents()) >= at, 60_000, 20);
      worker.proc.kill('SIGKILL');
      await exited(worker.proc);
      kills.push(await appliedEvents());
      await new Promise((r) => setTimeout(r, 500));
      worker = await startWorker();
    }
    await posting;
    expect(accepted.size).toBe(FEEDBACK + ENERGY);
    for (const k of kills) expect(k).toBeLessThan(FEEDBACK + ENERGY); // each kill hit a worker with work left

    const lagMs = (await awaitLog(sql, { decisions: DECISIONS, events: FEEDBACK + ENERGY }, 120_000)) - lastAcceptedAt;
    const lost = await lostEvents(
      sql,
      events.filter((e) => accepted.has(e.eventId)),
    );
    expect(lost).toBe(0);

    const err = worstRelErr(await liveState(REDIS_URL, env.prefix, 'crash'), sequentialFold(DIM, routed, events));
    expect(err).toBeLessThan(1e-9);
    recordFaultResult({
      scenario: '1. worker SIGKILL mid-ingestion',
      injected: `2 × SIGKILL of the worker process (at ${kills.join(' and ')} events learnt), new worker each time`,
      events: FEEDBACK + ENERGY,
      lost,
      duplicated: err < 1e-9 ? 0 : -1,
      maxLagMs: lagMs,
      duringFault: `all ${FEEDBACK + ENERGY} posted events accepted (202) while the workers died`,
    });
  }, 240_000);
});
