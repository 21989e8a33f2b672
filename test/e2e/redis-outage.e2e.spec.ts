import { client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { recordFaultResult } from '../support/fold.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-services.js';

describe('Redis killed and restarted empty (private instance)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let redis: PrivateRedis;
  let admin: ReturnType<typeof client>;
  let up: FakeUpstream;

  beforeAll(async () => {
    up = await startFakeUpstream();
    redis = await startPrivateRedis(); // no persistence
    env = await freshEnvironment('e2e_redis');
    svc = await startService(env, 1, { REDIS_URL: redis.url });
    admin = client(svc.url);
  });
  afterAll(async () => {
    await svc.close();
    redis.stop();
    await env.drop();
    await up.close();
  });

  it('keeps routing from the last copy, answers 503 + Retry-After for feedback, then rebuilds the same state', async () => {
    for (const m of ['a', 'b']) await admin.put(`/admin/models/${m}`, {});
    expect((await admin.put('/admin/policies/p', { algorithm: 'linucb', arms: ['a', 'b'] })).status).toBe(201);
    for (const m of ['up-a', 'up-b']) await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1` });
    expect((await admin.put('/admin/policies/proxied', { algorithm: 'linucb', arms: ['up-a', 'up-b'] })).status).toBe(201);
    const events = [];
    for (let i = 0; i < 40; i++) {
      const d = (await admin.post('/v1/route', { policy: 'p', input: `question ${i}` })).body.decisionId;
      events.push({ decisionId: d, reward: (i % 5) / 4 });
    }
    expect((await admin.post('/v1/feedback/batch', { events })).status).toBe(202);
    await eventually(async () => {
      const s = (await admin.get('/admin/policies/p/stats')).body;
      return s.decisions === 40 && s.feedback === 40;
    });
    const before = (await admin.get('/admin/policies/p/stats')).body;

    const killedAt = Date.now();
    redis.kill();
    await new Promise((r) => setTimeout(r, 300));
    let routed = 0;
    for (let i = 0; i < 10; i++) {
      const r = await admin.post('/v1/route', { policy: 'p', input: `during the outage ${i}` });
      expect(r.status).toBe(200);
      routed++;
    }
    // Proxied calls too: the decision's hot copy, written while the upstream is called, fails and is owed.
    const proxiedIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await admin.post('/v1/chat/completions', { model: 'router/proxied', messages: [{ role: 'user', content: `during ${i}` }] });
      expect(r.status).toBe(200);
      proxiedIds.push(r.headers.get('x-router-decision-id')!);
    }
    const fb = await admin.post('/v1/feedback', { decisionId: events[0].decisionId, thumb: 'up' });
    expect(fb.status).toBe(503);
    expect(Number(fb.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(fb.headers.get('content-type')).toContain('application/problem+json');
    // Readiness: still 200 (this replica routes from its copy), "degraded" with Redis named once the check sees it.
    await eventually(async () => (await admin.get('/health/ready')).body?.dependencies?.redis?.ok === false, 5000, 100);
    const ready = await admin.get('/health/ready');
    expect([ready.status, ready.body.status, ready.body.canRoute, ready.body.dependencies.redis.ok]).toEqual([200, 'degraded', true, false]);
    const stats = await admin.get('/admin/policies/p/stats'); // reads Redis: an outage is a 503, never a 500
    expect([stats.status, stats.body.status]).toEqual([503, 503]);
    expect(stats.headers.get('retry-after')).toBe('5');

    await redis.restart(); // empty: no AOF in this test, the worst case
    const backAt = Date.now();
    // The registry is repaired from Postgres, the state rebuilt from the log, the buffered decisions delivered.
    await eventually(
      async () => {
        const r = await admin.get('/admin/policies/p/stats');
        return r.status === 200 && r.body.decisions === 40 + routed && r.body.feedback === 40;
      },
      30_000,
      200,
    );
    const rebuiltAt = Date.now();
    const after = (await admin.get('/admin/policies/p/stats')).body;
    const q = (s: any) => s.arms.map((a: any) => [a.model, a.quality.count, a.quality.mean]);
    expect(q(after)).toEqual(q(before));
    const again = await admin.post('/v1/feedback', { decisionId: events[1].decisionId, thumb: 'up', eventId: 'after-restart' });
    expect([again.status, again.body.status]).toEqual([202, 'accepted']);
    // The proxied decisions of the outage were delivered, and their owed hot copies written: their feedback joins.
    for (const decisionId of proxiedIds) expect((await admin.post('/v1/feedback', { decisionId, thumb: 'up' })).status).toBe(202);
    await eventually(async () => {
      const r = (await admin.get('/admin/policies/proxied/stats')).body;
      return r.decisions === proxiedIds.length && r.feedback === proxiedIds.length;
    });
    await eventually(async () => (await admin.get('/health/ready')).body?.status === 'ok', 5000, 100);
    recordFaultResult({
      scenario: '2b. Redis killed, restarted empty (no AOF)',
      injected: `SIGKILL of redis-server after 40 routes + 40 rewards; restarted without data after ${((backAt - killedAt) / 1000).toFixed(1)} s`,
      events: 80 + routed + 2 * proxiedIds.length,
      lost: 0,
      duplicated: 0,
      maxLagMs: rebuiltAt - backAt,
      duringFault: `${routed} routes and ${proxiedIds.length} proxied calls all 200 from the replica copy; feedback and stats 503 (+ Retry-After), readiness 200 "degraded"; state rebuilt from Postgres = before + the outage's decisions`,
    });
  }, 90_000);
});
