import { createRng } from '@app/bandits';
import { client, freshEnvironment, type Running, settled, startService } from '../support/harness.js';

type Env = Awaited<ReturnType<typeof freshEnvironment>>;

/**
 * Off-policy evaluation through the service: decisions logged with their propensities (ε = 0.2), feedback and
 * energy readings, then "what would energy weight w have done?" answered from the log without applying it.
 * Easy prompts: small 0.9 / large 0.95; hard: small 0.2 / large 0.9; small 10 J, large 100 J.
 */
describe('evaluate and frontier', () => {
  let env: Env;
  let svc: Running;

  beforeAll(async () => {
    env = await freshEnvironment('evaluate');
    svc = await startService(env, 1);
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
    await env?.drop();
  });

  it('estimates a changed trade-off from the log, with intervals, shares and warnings; nothing changes', async () => {
    const c = client(svc.url);
    expect((await c.put('/admin/models/small', { energy: { joulesPerOutputToken: 0.1 } })).status).toBe(200);
    expect((await c.put('/admin/models/large', { energy: { joulesPerOutputToken: 1 } })).status).toBe(200);
    expect(
      (
        await c.put('/admin/policies/ope', {
          algorithm: 'linucb',
          arms: ['small', 'large'],
          features: { source: 'caller', dim: 2 },
          params: { expectedOutputTokens: 100, alpha: 0.2, epsilon: 0.2 },
        })
      ).status,
    ).toBe(201);
    const rng = createRng(11);
    let realised = 0;
    const N = 800;
    for (let i = 0; i < N; i++) {
      const hard = rng.next() < 0.5;
      const r = await c.post('/v1/route', { policy: 'ope', features: [1, hard ? 1 : 0] });
      const large = r.body.model === 'large';
      const q = rng.next() < (large ? (hard ? 0.9 : 0.95) : hard ? 0.2 : 0.9) ? 1 : 0;
      realised += q;
      expect((await c.post('/v1/feedback', { decisionId: r.body.decisionId, reward: q })).status).toBe(202);
      // A reading may say how long the call took: it is still a reading, not a proxied call's usage (time series below).
      expect((await c.post('/v1/energy', { decisionId: r.body.decisionId, joules: large ? 100 : 10, latencyMs: 40 })).status).toBe(202);
    }
    const before = await settled(async () => (await c.get('/admin/policies/ope/stats')).body, ['feedback', 'energyReadings'], 500);

    const e = await c.post('/admin/policies/ope/evaluate', { candidate: { objective: { energy: 1 } } });
    expect(e.status).toBe(200);
    expect(e.body.n).toBe(N);
    expect(e.body.logged.quality.estimate).toBeCloseTo(realised / N, 9);
    expect(e.body.logged.costUsd).toBeNull();
    expect(e.body.candidate.latencyMs.estimate).toBeCloseTo(40, 0); // every reading said 40 ms
    const q = e.body.candidate.quality;
    expect(q.ci95[0]).toBeLessThanOrEqual(q.estimate);
    expect(q.ci95[1]).toBeGreaterThanOrEqual(q.estimate);
    expect(q.effectiveSampleSize).toBeGreaterThan(50);
    // Energy weight 1 trades one unit of quality per 100 J (the dearest model's expected request): large's 0.05 on
    // easy prompts is not worth its 90 J, so the candidate sends more to small and spends less energy.
    expect(e.body.candidate.energyJoules.estimate).toBeLessThan(e.body.logged.energyJoules.estimate);
    expect(e.body.candidate.shares.small).toBeGreaterThan(before.arms.find((a: any) => a.model === 'small').share);

    const f = await c.post('/admin/policies/ope/frontier', { weight: 'energy', values: [0, 0.5, 2] });
    expect(f.status).toBe(200);
    expect(f.body.current).toBe(0);
    const energies = f.body.points.map((p: any) => p.candidate.energyJoules.estimate);
    expect(energies[2]).toBeLessThan(energies[0]);

    // A tiny window: a warning, not an error; bad input: 400 naming the field; unknown policy: 404.
    const tiny = await c.post('/admin/policies/ope/evaluate', { candidate: {}, limit: 5 });
    expect(tiny.body.warnings.some((w: string) => w.startsWith('thin support'))).toBe(true);
    for (const [body, path] of [
      [{ candidate: { objective: { energy: -1 } } }, 'candidate.objective.energy'],
      [{ candidate: { alpha: 1 } }, 'candidate.alpha'],
      [{ since: 'yesterday' }, 'since'],
      // Instants Postgres cannot compare with are the caller's error, not a failed query.
      [{ since: '0000-01-01T00:00:00Z' }, 'since'],
      [{ until: '0001-01-01T00:00:00+14:00' }, 'until'],
      [{ weight: 'energy', values: [1], since: '0000-01-01T00:00:00Z' }, 'since'],
      [{ weight: 'speed', values: [1] }, 'weight'],
    ] as const) {
      const path0 = 'weight' in body ? '/admin/policies/ope/frontier' : '/admin/policies/ope/evaluate';
      const r = await c.post(path0, body);
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expect(r.body.errors.map((x: any) => x.path)).toContain(path);
    }
    expect((await c.post('/admin/policies/nope/evaluate', {})).status).toBe(404);
    // Read-only: the policy and its learning state did not move.
    const after = (await c.get('/admin/policies/ope/stats')).body;
    expect([after.version, after.stateSeq]).toEqual([before.version, before.stateSeq]);
  }, 180_000);

  it('time series per bucket and model from the log; an objective change is undone by its audit id', async () => {
    const c = client(svc.url);
    const from = new Date(Date.now() - 3600_000).toISOString();
    const ts = await c.get(`/admin/policies/ope/timeseries?from=${encodeURIComponent(from)}&bucket=1h`);
    expect(ts.status).toBe(200);
    expect(ts.body.bucket).toBe('1h');
    const total = ts.body.points.reduce((s: number, p: any) => s + p.decisions, 0);
    const stats = (await c.get('/admin/policies/ope/stats')).body;
    expect(total).toBe(stats.decisions);
    for (const p of ts.body.points) {
      expect(['small', 'large']).toContain(p.model);
      expect(Date.parse(p.bucket) % 3600_000).toBe(0); // on the clock, whatever the minutes and seconds of from
      expect(p.energyJoules).toBe(p.model === 'large' ? 100 : 10);
      expect([p.feedback, p.energyReadings]).toEqual([p.decisions, p.decisions]);
      expect([p.costUsd, p.latencyMs, p.fallbacks]).toEqual([null, null, 0]);
    }
    for (const [q, path] of [
      ['bucket=2m', 'bucket'],
      ['from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z&bucket=1m', 'bucket'],
      ['from=later', 'from'],
      ['from=0000-01-01T00:00:00Z', 'from'],
      ['to=0001-01-01T00:00:00%2B14:00', 'to'],
      ['extra=1', 'extra'],
    ] as const) {
      const r = await c.get(`/admin/policies/ope/timeseries?${q}`);
      expect({ q, status: r.status }).toEqual({ q, status: 400 });
      expect(r.body.errors.map((x: any) => x.path)).toContain(path);
    }
    expect((await c.get('/admin/policies/nope/timeseries')).status).toBe(404);

    // Change the objective twice, then undo the first change: its "before" comes back, audited as a revert.
    expect((await c.patch('/admin/policies/ope/objective', { energy: 0.7 })).status).toBe(200);
    expect((await c.patch('/admin/policies/ope/objective', { cost: 0.3 })).status).toBe(200);
    const audit = (await c.get('/admin/policies/ope/audit')).body.audit;
    const first = audit.find((a: any) => a.action === 'objective' && a.after.objective.energy === 0.7 && a.after.objective.cost === 0);
    const r = await c.post('/admin/policies/ope/objective/revert', { auditId: first.id });
    expect(r.status).toBe(200);
    expect(r.body.objective).toEqual({ quality: 1, energy: 0, cost: 0, latency: 0 });
    expect((await c.get('/admin/policies/ope/audit')).body.audit[0]).toMatchObject({ action: 'revert' });
    const created = audit.find((a: any) => a.action === 'create');
    expect((await c.post('/admin/policies/ope/objective/revert', { auditId: created.id })).status).toBe(409);
    expect((await c.post('/admin/policies/ope/objective/revert', { auditId: '999999999' })).status).toBe(404);
    for (const auditId of ['x', '9223372036854775808', '99999999999999999999']) {
      const bad = await c.post('/admin/policies/ope/objective/revert', { auditId });
      expect([auditId, bad.status, bad.body.errors[0].path]).toEqual([auditId, 400, 'auditId']);
    }
    // An entry that changed no objective (a budget) has nothing to revert.
    expect((await c.patch('/admin/policies/ope/budget', { budget: { energyJoulesPerRequest: 50 } })).status).toBe(200);
    const budgetEntry = (await c.get('/admin/policies/ope/audit')).body.audit[0];
    expect(budgetEntry.action).toBe('budget');
    expect((await c.post('/admin/policies/ope/objective/revert', { auditId: budgetEntry.id })).status).toBe(409);
    // An entry of an earlier policy of the same name (deleted, then created again) is not this policy's.
    const gone = { algorithm: 'linucb', arms: ['small', 'large'] };
    expect((await c.put('/admin/policies/gone', gone)).status).toBe(201);
    expect((await c.patch('/admin/policies/gone/objective', { energy: 0.9 })).status).toBe(200);
    const old = (await c.get('/admin/policies/gone/audit')).body.audit[0];
    expect((await c.del('/admin/policies/gone')).status).toBe(204);
    expect((await c.put('/admin/policies/gone', gone)).status).toBe(201);
    const stale = await c.post('/admin/policies/gone/objective/revert', { auditId: old.id });
    expect([stale.status, stale.body.errors[0].path, stale.body.detail]).toEqual([404, 'auditId', expect.stringContaining('earlier policy')]);
    expect((await c.get('/admin/policies/gone')).body.objective.energy).toBe(0);
  }, 60_000);
});
