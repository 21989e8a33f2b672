import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';

/** A private redis-server (no persistence) on a free port, so this test may kill and restart it. */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
async function startRedis(port: number): Promise<ChildProcess> {
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const r = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
  await r.connect().catch(() => undefined);
  await eventually(async () => (await r.ping().catch(() => '')) === 'PONG', 10_000);
  r.disconnect();
  return p;
}

describe('Redis killed and restarted empty (private instance)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let redis: ChildProcess;
  let port: number;
  let admin: ReturnType<typeof client>;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    env = await freshEnvironment('e2e_redis');
    svc = await startService(env, 1, { REDIS_URL: `redis://127.0.0.1:${port}` });
    admin = client(svc.url);
  });
  afterAll(async () => {
    await svc.close();
    redis.kill('SIGKILL');
    await env.drop();
  });

  it('keeps routing from the last copy, answers 503 + Retry-After for feedback, then rebuilds the same state', async () => {
    for (const m of ['a', 'b']) await admin.put(`/admin/models/${m}`, {});
    expect((await admin.put('/admin/policies/p', { algorithm: 'linucb', arms: ['a', 'b'] })).status).toBe(201);
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

    redis.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    let routed = 0;
    for (let i = 0; i < 10; i++) {
      const r = await admin.post('/v1/route', { policy: 'p', input: `during the outage ${i}` });
      expect(r.status).toBe(200);
      routed++;
    }
    const fb = await admin.post('/v1/feedback', { decisionId: events[0].decisionId, thumb: 'up' });
    expect(fb.status).toBe(503);
    expect(Number(fb.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(fb.headers.get('content-type')).toContain('application/problem+json');
    const ready = await admin.get('/health/ready');
    expect([ready.status, ready.body.checks.redis.ok]).toEqual([503, false]);
    const stats = await admin.get('/admin/policies/p/stats'); // reads Redis: an outage is a 503, never a 500
    expect([stats.status, stats.body.status]).toEqual([503, 503]);
    expect(stats.headers.get('retry-after')).toBe('5');

    redis = await startRedis(port); // empty: no AOF in this test, the worst case
    // The registry is repaired from Postgres, the state rebuilt from the log, the buffered decisions delivered.
    await eventually(async () => {
      const r = await admin.get('/admin/policies/p/stats');
      return r.status === 200 && r.body.decisions === 40 + routed && r.body.feedback === 40;
    }, 30_000, 200);
    const after = (await admin.get('/admin/policies/p/stats')).body;
    const q = (s: any) => s.arms.map((a: any) => [a.model, a.quality.count, a.quality.mean]);
    expect(q(after)).toEqual(q(before));
    const again = await admin.post('/v1/feedback', { decisionId: events[1].decisionId, thumb: 'up', eventId: 'after-restart' });
    expect([again.status, again.body.status]).toEqual([202, 'accepted']);
    expect((await admin.get('/health/ready')).status).toBe(200);
  }, 90_000);
});
