import { RouterApiError, RouterClient } from '@app/client';
import { ADMIN_KEY, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';

/**
 * The typed client (libs/client) against the real service: its requests are accepted and every answer parses with
 * the response schemas the OpenAPI document publishes; error answers become typed RouterApiErrors.
 */
describe('typed client', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let admin: RouterClient;

  beforeAll(async () => {
    env = await freshEnvironment('client');
    svc = await startService(env, 1);
    admin = new RouterClient({ baseUrl: svc.url, apiKey: ADMIN_KEY });
  });

  afterAll(async () => {
    await svc?.close();
    await env?.drop();
  });

  it('registers, routes, sends feedback once (Idempotency-Key) and reads the learnt stats', async () => {
    expect(await admin.putModel('small', { pricing: { inputPerMTok: 0.05, outputPerMTok: 0.1 } })).toMatchObject({ id: 'small', enabled: true });
    await admin.putModel('large', {});
    const created = await admin.putPolicy('typed', { algorithm: 'linucb', arms: ['small', 'large'], objective: { quality: 1 } });
    expect(created).toMatchObject({ name: 'typed', version: 1, objective: { quality: 1, energy: 0 } });
    expect((await admin.listPolicies()).policies.map((p) => p.name)).toEqual(['typed']);
    expect((await admin.listModels()).models.map((m) => [m.id, m.breaker.state])).toEqual([
      ['large', 'closed'],
      ['small', 'closed'],
    ]);

    const key = await admin.createKey({ name: 'typed-app', scope: 'route', policies: ['typed'] });
    expect(key.secret).toMatch(/^rk_/);
    const app = new RouterClient({ baseUrl: svc.url, apiKey: key.secret });

    expect((await app.models()).data.map((m) => m.id)).toContain('router/typed');
    const d = await app.route({ policy: 'typed', input: 'Solve 3x + 7 = 22 for x' });
    expect(d.models).toEqual([d.model]);
    expect(d.propensity).toBeGreaterThan(0);
    const first = await app.feedback({ decisionId: d.decisionId, reward: 0.8 }, { idempotencyKey: 'typed-fb-1' });
    expect(first).toEqual({ eventId: 'typed-fb-1', status: 'accepted' });
    expect(await app.feedback({ decisionId: d.decisionId, reward: 0.8 }, { idempotencyKey: 'typed-fb-1' })).toEqual({
      eventId: 'typed-fb-1',
      status: 'duplicate',
    });

    await eventually(async () => (await admin.policyStats('typed')).feedback === 1);
    const stats = await admin.policyStats('typed');
    const arm = stats.arms.find((a) => a.model === d.model)!;
    expect(arm).toMatchObject({ pulls: 1, share: 1, quality: { mean: 0.8, count: 1 } });

    const moved = await admin.patchObjective('typed', { energy: 0.3 });
    expect([moved.version, moved.objective.energy]).toEqual([2, 0.3]);
    expect((await admin.listKeys()).keys.map((k) => k.name)).toEqual(['typed-app']);
  });

  it('throws typed errors: code, fields, status', async () => {
    const unknown = await admin.getPolicy('nope').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(RouterApiError);
    expect(unknown).toMatchObject({ status: 404, code: 'POLICY_NOT_FOUND' });

    const invalid = await admin.putPolicy('bad', { algorithm: 'linucb', arms: [] }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION' });
    expect((invalid as RouterApiError).errors.map((e) => e.path)).toContain('arms');

    const stranger = new RouterClient({ baseUrl: svc.url, apiKey: 'not-a-key-of-this-service' });
    await expect(stranger.route({ policy: 'typed', input: 'x' })).rejects.toMatchObject({ status: 401 });

    const key = await admin.createKey({ name: 'revoked-app', scope: 'route' });
    await admin.revokeKey(key.id);
    await expect(admin.revokeKey(key.id)).rejects.toMatchObject({ status: 404, code: 'KEY_NOT_FOUND' });
  });

  it('covers the operations the e2e tests use: models, priors, batches, reset, rebuild, audit, evaluate, cascades, keys', async () => {
    await admin.putModel('cheap', { pricing: { inputPerMTok: 1, outputPerMTok: 2 } });
    await admin.putModel('dear', { pricing: { inputPerMTok: 10, outputPerMTok: 20 } });
    // PATCH keeps what it is not given.
    const patched = await admin.patchModel('cheap', { energy: { joulesPerOutputToken: 0.5 } });
    expect(patched).toMatchObject({ id: 'cheap', pricing: { inputPerMTok: 1, outputPerMTok: 2 }, energy: { joulesPerOutputToken: 0.5 } });
    await admin.putPolicy('ops', { algorithm: 'linucb', arms: ['cheap', 'dear'], cascade: { maxSteps: 2 } });
    const withPrior = await admin.installPrior('ops', { records: [{ input: 'Solve 2x = 4', model: 'dear', score: 1 }], maxWeight: 10 });
    expect(withPrior.prior).toMatchObject({ records: 1 });
    expect((await admin.removePrior('ops')).prior).toBeUndefined();

    const d = await admin.route({ policy: 'ops', input: 'What is 17 * 23?' });
    const step = await admin.continueRoute(d.decisionId, { answer: 'I cannot help with that.', input: 'What is 17 * 23?' });
    expect(['accept', 'escalate']).toContain(step.action);
    expect(step.decisionId).toEqual(expect.any(String));
    const batch = await admin.feedbackBatch({ events: [{ eventId: 'ops-fb-1', decisionId: d.decisionId, reward: 1 }] });
    expect(batch.results).toEqual([{ eventId: 'ops-fb-1', status: 'accepted' }]);
    const readings = await admin.energyBatch({ events: [{ eventId: 'ops-en-1', decisionId: d.decisionId, joules: 3 }] });
    expect(readings.results).toEqual([{ eventId: 'ops-en-1', status: 'accepted' }]);
    await eventually(async () => (await admin.policyStats('ops')).feedback === 1);

    const evaluation = await admin.evaluate('ops', { candidate: { objective: { cost: 0.5 } } });
    expect(evaluation).toEqual(expect.objectContaining({ candidate: expect.anything() }));
    expect((await admin.rebuildPolicy('ops')).policy).toBe('ops');
    expect((await admin.audit('ops')).audit.map((a) => a.action)).toEqual(expect.arrayContaining(['create', 'prior']));
    const reset = await admin.resetPolicy('ops');
    expect(reset.epoch).toBe(withPrior.epoch + 1);

    const key = await admin.createKey({ name: 'ops-app', scope: 'route', policies: ['ops'] });
    const limited = await admin.patchKey(key.id, { limits: { requestsPerMinute: 100 } });
    expect(limited).toMatchObject({ id: key.id, limits: { requestsPerMinute: 100 } });
    expect((await admin.keyUsage(key.id)).total.requests).toBe(0);

    await admin.deletePolicy('ops');
    await expect(admin.getPolicy('ops')).rejects.toMatchObject({ status: 404 });
    await admin.deleteModel('cheap');
    expect((await admin.listModels()).models.map((m) => m.id)).not.toContain('cheap');
  });
});
