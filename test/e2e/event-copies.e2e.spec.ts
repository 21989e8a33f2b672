import { Redis } from 'ioredis';
import postgres from 'postgres';
import { ownedEventId } from '@app/contracts';
import { DecisionHotStore } from '@app/store';
import { type Accepted, liveState, type Routed, sequentialFold, worstRelErr } from '../support/fold.js';
import { client, eventually, freshEnvironment, REDIS_URL, type Running, settled, startService } from '../support/harness.js';

const DIM = 3;
const ARMS = ['m1', 'm2', 'm3'];
/** Rounds of copies (copies sent at once overlap often, not always: each round is another chance). */
const ROUNDS = 5;

/**
 * Copies of one event id sent at the same moment: exactly one is accepted, and it is the copy the log stores and
 * learns; the others hear "duplicate", or a retryable 503 while the accepted one is being queued. The learnt
 * state stays the fold of the log. Copies of one id go to different decisions, in batches whose other events
 * differ (so their jobs differ) and as single events, with two workers learning.
 */
describe('concurrent copies of one event id', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let admin: ReturnType<typeof client>;

  beforeAll(async () => {
    env = await freshEnvironment('copies');
    svc = await startService(env, 2);
    admin = client(svc.url);
  });
  afterAll(async () => {
    await svc.close();
    await env.drop();
  });

  it('learns only the stored copy of each id: the live state equals the fold of the log, and a rebuild', async () => {
    for (const m of ARMS) expect((await admin.put(`/admin/models/${m}`, {})).status).toBe(200);
    // The default aggregation (a decision's earliest feedback): each decision's marker takes one claimer, so copies
    // of one id sent to different decisions claim different markers.
    const policy = { algorithm: 'linucb', arms: ARMS, features: { source: 'caller', dim: DIM } };
    expect((await admin.put('/admin/policies/copies', policy)).status).toBe(201);
    const routed: Routed[] = [];
    for (let i = 0; i < 90 * ROUNDS; i++) {
      const x = [1, (i % 7) / 7, (i % 3) / 3];
      const r = await admin.post('/v1/route', { policy: 'copies', features: x });
      expect(r.status).toBe(200);
      routed.push({ id: r.body.decisionId, arm: r.body.model, x });
    }
    // Per shared id, each copy's decision and what it was told.
    const told = new Map<string, { decisionId: string; outcome: string }[]>();
    const tell = (id: string, decisionId: string, outcome: string) => told.set(id, [...(told.get(id) ?? []), { decisionId, outcome }]);
    let retried = false;
    for (let round = 0; round < ROUNDS; round++) {
      // Each decision gets events in one round only (90 a round).
      const at = (i: number) => routed[90 * round + i].id;
      // 30 batches at once, each with a copy of one shared id (to its own decision, reward 1) and an event of its own.
      const batches = Array.from({ length: 30 }, (_, i) => ({
        events: [
          { decisionId: at(2 * i), eventId: `race-${round}`, reward: 1 },
          { decisionId: at(2 * i + 1), eventId: `own-${round}-${i}`, reward: 0 },
        ],
      }));
      // And 30 single events of the same id at the same time, each to its own decision (one group commit or a few).
      const single = (i: number) => admin.post('/v1/feedback', { decisionId: at(60 + i), eventId: `race-${round}`, reward: 0.5 });
      const [answers, singles] = await Promise.all([
        Promise.all(batches.map((b) => admin.post('/v1/feedback/batch', b))),
        Promise.all(Array.from({ length: 30 }, (_, i) => single(i))),
      ]);
      answers.forEach((a, i) => {
        const r = a.body.results[0];
        tell(`race-${round}`, at(2 * i), r.status === 'rejected' && r.problem.status === 503 ? 'busy' : r.status);
        expect(a.body.results[1].status).toBe('accepted');
      });
      for (const [i, a] of singles.entries()) {
        if (a.status === 503) expect(a.headers.get('retry-after')).toBe('1');
        tell(`race-${round}`, at(60 + i), a.status === 503 ? 'busy' : a.body.status);
        // A copy told to retry, retried once its first copy is queued, is a duplicate.
        if (a.status === 503 && !retried) {
          retried = true;
          await eventually(async () => (await single(i)).body.status === 'duplicate', 5000);
        }
      }
    }
    const outcomes = [...told.values()].flat().map((c) => c.outcome);
    expect(outcomes.every((o) => o === 'accepted' || o === 'duplicate' || o === 'busy')).toBe(true);
    for (const copies of told.values()) expect(copies.filter((c) => c.outcome === 'accepted')).toHaveLength(1);

    // What the log holds: one row per id.
    const sql = postgres(env.databaseUrl, { max: 1, onnotice: () => undefined });
    try {
      const want = ROUNDS * (30 + 1);
      await eventually(async () => (await admin.get('/admin/policies/copies/stats')).body.feedback >= want, 30_000);
      const stats = await settled(async () => (await admin.get('/admin/policies/copies/stats')).body, ['feedback', 'decisions']);
      const rows = await sql<{ id: string; decisionId: string; reward: number }[]>`
        select id, decision_id as "decisionId", reward from events where policy = 'copies' and kind = 'feedback' and status = 'learned'`;
      expect(rows.length).toBe(want);
      expect(stats.feedback).toBe(want);
      // The copy that was told "accepted" is the one stored.
      for (const [id, copies] of told) {
        const stored = rows.filter((r) => r.id.endsWith(`|${id}`));
        expect(stored.map((r) => r.decisionId)).toEqual([copies.find((c) => c.outcome === 'accepted')!.decisionId]);
      }
      const logged: Accepted[] = rows.map((r) => ({ decisionId: r.decisionId, reward: r.reward }));
      const expected = sequentialFold(DIM, routed, logged);
      const live = await liveState(REDIS_URL, env.prefix, 'copies');
      expect(worstRelErr(live, expected)).toBeLessThan(1e-9);
      const rebuilt = await admin.post('/admin/policies/copies/rebuild');
      expect(rebuilt.status).toBe(200);
      expect(worstRelErr(await liveState(REDIS_URL, env.prefix, 'copies'), live)).toBeLessThan(1e-12);
    } finally {
      await sql.end();
    }
  });

  it('answers later copies in one batch by their first copy: all retryable while another request holds the id', async () => {
    const r1 = await admin.post('/v1/route', { policy: 'copies', features: [1, 0.5, 0.5] });
    const r2 = await admin.post('/v1/route', { policy: 'copies', features: [1, 0.25, 0.5] });
    // As if another request had just marked the id pending (its job not queued yet).
    const redis = new Redis(REDIS_URL);
    try {
      const hot = new DecisionHotStore(redis, env.prefix);
      await redis.set(hot.keys.eventSeen(ownedEventId('admin', 'held')), 'p', 'EX', 7 * 86400);
      const events = [r1, r2].map((r) => ({ decisionId: r.body.decisionId, eventId: 'held', reward: 1 }));
      const held = await admin.post('/v1/feedback/batch', { events });
      // Both copies are told to retry: before, the second heard "duplicate" though no copy had been queued.
      expect(held.body.results.map((x: { status: string; problem?: { status: number } }) => [x.status, x.problem?.status])).toEqual([
        ['rejected', 503],
        ['rejected', 503],
      ]);
      expect(held.body.results[1].problem.errors).toEqual([{ path: 'events.1.eventId', message: expect.any(String) }]);
      // Once the holder gave the mark back, the first copy is accepted and the second is its duplicate.
      await redis.del(hot.keys.eventSeen(ownedEventId('admin', 'held')));
      const free = await admin.post('/v1/feedback/batch', { events });
      expect(free.body.results.map((x: { status: string }) => x.status)).toEqual(['accepted', 'duplicate']);
    } finally {
      await redis.quit();
    }
  });
});
