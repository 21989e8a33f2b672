import { createRng } from '@app/bandits';
import { client, eventually, freshEnvironment, type Running, settled, startService } from '../support/harness.js';

type Env = Awaited<ReturnType<typeof freshEnvironment>>;

/**
 * Budget pacing through the service: two api replicas (one worker each) on one state; the budget is set by PATCH
 * on one replica and the other paces to it too, from the same merged spend totals. Easy prompts are answered well
 * by `small` (10 J), hard ones only by `large` (100 J); unconstrained, LinUCB sends nearly everything to `large`.
 * Under 40 J per request the best mix sends easy prompts to `small` and two thirds of hard ones to `large`.
 */
describe('budgets in the service', () => {
  let env: Env;
  let a: Running;
  let b: Running;

  beforeAll(async () => {
    env = await freshEnvironment('budget');
    a = await startService(env, 1);
    b = await startService(env, 1);
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await env?.drop();
  });

  it('a budget set by PATCH holds across two replicas: the mean per request ends within +5 % after 500 requests', async () => {
    const [ca, cb] = [client(a.url), client(b.url)];
    expect((await ca.put('/admin/models/small', { energy: { joulesPerOutputToken: 0.1 } })).status).toBe(200);
    expect((await ca.put('/admin/models/large', { energy: { joulesPerOutputToken: 1 } })).status).toBe(200);
    const created = await ca.put('/admin/policies/paced', {
      algorithm: 'linucb',
      arms: ['small', 'large'],
      features: { source: 'caller', dim: 2 },
      params: { expectedOutputTokens: 100, alpha: 0.5 },
    });
    expect(created.status).toBe(201);

    // Bad budgets: 400 naming the field, nothing changes.
    for (const [body, path] of [
      [{ budget: { energyJoulesPerRequest: -1 } }, 'budget.energyJoulesPerRequest'],
      [{ budget: {} }, 'budget'],
      [{ budget: { joules: 3 } }, 'budget'],
      [{}, 'budget'],
    ] as const) {
      const r = await ca.patch('/admin/policies/paced/budget', body);
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expect(r.body.errors.map((e: any) => e.path)).toContain(path);
    }
    expect((await ca.patch('/admin/policies/nope/budget', { budget: { energyJoulesPerRequest: 40 } })).status).toBe(404);

    const set = await ca.patch('/admin/policies/paced/budget', { budget: { energyJoulesPerRequest: 40 } });
    expect(set.status).toBe(200);
    expect(set.body.budget).toEqual({ energyJoulesPerRequest: 40 });
    await eventually(async () => (await cb.get('/admin/policies/paced/stats')).body.budgets?.[0]?.limit === 40);

    const rng = createRng(7);
    const served: Record<string, number> = { small: 0, large: 0 };
    for (let i = 0; i < 520; i++) {
      const c = i % 2 === 0 ? ca : cb;
      const hard = rng.next() < 0.5;
      const r = await c.post('/v1/route', { policy: 'paced', features: [1, hard ? 1 : 0] });
      expect(r.status).toBe(200);
      const model = r.body.model as 'small' | 'large';
      served[model]++;
      const p = model === 'large' ? (hard ? 0.9 : 0.95) : hard ? 0.2 : 0.9;
      expect((await c.post('/v1/feedback', { decisionId: r.body.decisionId, reward: rng.next() < p ? 1 : 0 })).status).toBe(202);
      const joules = model === 'large' ? 100 : 10;
      expect((await c.post('/v1/energy', { decisionId: r.body.decisionId, joules, outputTokens: 100 })).status).toBe(202);
    }
    const stats = await settled(async () => (await ca.get('/admin/policies/paced/stats')).body, ['energyReadings'], 500);
    const budget = stats.budgets[0];
    console.log(
      `energy budget 40 J: mean ${budget.meanPerRequest.toFixed(2)} J over ${budget.requests} requests, price ${budget.price.toFixed(3)}; served ${JSON.stringify(served)}`,
    );
    expect(budget).toMatchObject({ budget: 'energyJoulesPerRequest', limit: 40, requests: 520 });
    expect(budget.meanPerRequest).toBeLessThanOrEqual(40 * 1.05);
    // Paced, not starved: the budget is spent on the hard prompts (the all-small mean would be 10 J).
    expect(budget.meanPerRequest).toBeGreaterThan(25);
    // The other replica reports the same standing (one state).
    expect((await cb.get('/admin/policies/paced/stats')).body.budgets[0]).toEqual(budget);

    // Setting the budget again counts from now: the state's totals are its new start.
    expect((await cb.patch('/admin/policies/paced/budget', { budget: { energyJoulesPerRequest: 45 } })).status).toBe(200);
    await eventually(async () => (await ca.get('/admin/policies/paced/stats')).body.budgets[0]?.limit === 45);
    expect((await ca.get('/admin/policies/paced/stats')).body.budgets[0]).toMatchObject({ requests: 0, meanPerRequest: null, price: 0 });
    // Policies that choose without the scores a budget prices refuse one.
    expect(
      (await ca.put('/admin/policies/duels', { algorithm: 'fgts-cdb', arms: ['small', 'large'], budget: { energyJoulesPerRequest: 40 } })).body.errors?.[0]
        ?.path,
    ).toBe('budget');
    expect((await ca.put('/admin/policies/rnd', { algorithm: 'random', arms: ['small', 'large'] })).status).toBe(201);
    const r = await ca.patch('/admin/policies/rnd/budget', { budget: { energyJoulesPerRequest: 40 } });
    expect([r.status, r.body.errors[0].path]).toEqual([400, 'budget']);
    const tried = await ca.post('/admin/policies/rnd/evaluate', { candidate: { budget: { energyJoulesPerRequest: 40 } } });
    expect([tried.status, tried.body.errors[0].path]).toEqual([400, 'candidate.budget']);
    // Nor does a cascade (a request makes several calls): by PATCH as by PUT.
    expect((await ca.put('/admin/policies/casc', { algorithm: 'linucb', arms: ['small', 'large'], cascade: { maxSteps: 2 } })).status).toBe(201);
    const cascaded = await ca.patch('/admin/policies/casc/budget', { budget: { costUsdPerRequest: 0.01 } });
    expect([cascaded.status, cascaded.body.errors[0].path, cascaded.body.errors[0].message]).toEqual([400, 'budget', expect.stringMatching(/cascade/)]);
    expect((await ca.get('/admin/policies/casc')).body.budget).toBeUndefined();

    // The change is audited; null removes the budget.
    expect((await ca.get('/admin/policies/paced/audit')).body.audit.some((x: any) => x.action === 'budget')).toBe(true);
    const removed = await cb.patch('/admin/policies/paced/budget', { budget: null });
    expect(removed.status).toBe(200);
    expect(removed.body.budget).toBeUndefined();
    expect((await ca.get('/admin/policies/paced/stats')).body.budgets).toEqual([]);
  }, 180_000);
});
