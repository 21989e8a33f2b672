import postgres from 'postgres';
import { FEATURIZER_VERSION } from '@app/featurizer';
import { client, eventually, freshEnvironment, type Running, settled, startService } from '../support/harness.js';

type Env = Awaited<ReturnType<typeof freshEnvironment>>;

/**
 * A built-in policy learnt with an older featurizer (no recorded version, as every policy before versions were
 * recorded) starts a new epoch when a replica of this build starts: its statistics and prior were learnt in
 * another feature space. Once, whichever replica gets there first; caller-feature policies are left alone.
 */
describe('featurizer upgrade', () => {
  let env: Env;
  const running: Running[] = [];

  beforeAll(async () => {
    env = await freshEnvironment('featurizer_upgrade');
  });

  afterAll(async () => {
    for (const r of running) await r.close();
    await env?.drop();
  });

  it('moves old built-in policies to a new epoch at start, once; the others keep their state', async () => {
    const a = await startService(env, 1);
    running.push(a);
    const c = client(a.url);
    for (const m of ['small', 'large']) expect((await c.put(`/admin/models/${m}`, {})).status).toBe(200);
    const created = await c.put('/admin/policies/text', { algorithm: 'linucb', arms: ['small', 'large'] });
    expect(created.body.features).toEqual({ source: 'builtin', dim: 64, version: FEATURIZER_VERSION });
    // A version sent by the caller is replaced by the build's.
    expect((await c.put('/admin/policies/text', { algorithm: 'linucb', arms: ['small', 'large'], features: { version: 1 } })).body.features.version).toBe(
      FEATURIZER_VERSION,
    );
    expect((await c.put('/admin/policies/caller', { algorithm: 'linucb', arms: ['small', 'large'], features: { source: 'caller', dim: 2 } })).status).toBe(201);
    expect((await c.post('/admin/policies/text/prior', { records: [{ input: 'hello', model: 'small', score: 1 }] })).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const r = await c.post('/v1/route', { policy: 'text', input: `question ${i}` });
      expect((await c.post('/v1/feedback', { decisionId: r.body.decisionId, reward: 1 })).status).toBe(202);
      const k = await c.post('/v1/route', { policy: 'caller', features: [1, i] });
      expect((await c.post('/v1/feedback', { decisionId: k.body.decisionId, reward: 1 })).status).toBe(202);
    }
    await settled(async () => (await c.get('/admin/policies/text/stats')).body, ['feedback'], 300);
    const callerBefore = await settled(async () => (await c.get('/admin/policies/caller/stats')).body, ['feedback'], 300);
    expect(callerBefore.feedback).toBe(5);
    const epochBefore = (await c.get('/admin/policies/text')).body.epoch;
    await a.close();
    running.pop();

    // The stored policy as an older build left it: no version recorded.
    const sql = postgres(env.databaseUrl, { max: 1, onnotice: () => undefined });
    await sql`update policies set config = config #- '{features,version}' where name = 'text'`;
    await sql.end();

    const b = await startService(env, 1);
    running.push(b);
    const cb = client(b.url);
    const upgraded = (await cb.get('/admin/policies/text')).body;
    expect(upgraded.epoch).toBe(epochBefore + 1);
    expect(upgraded.features.version).toBe(FEATURIZER_VERSION);
    expect(upgraded.prior).toBeUndefined();
    await eventually(async () => (await cb.get('/admin/policies/text/stats')).body.decisions === 0);
    expect((await cb.get('/admin/policies/text/audit')).body.audit[0]).toMatchObject({ action: 'reset', actor: 'featurizer-upgrade' });
    expect((await cb.get('/admin/policies/caller/stats')).body).toMatchObject({ epoch: callerBefore.epoch, feedback: 5 });
    // It routes and learns in the new epoch.
    const r = await cb.post('/v1/route', { policy: 'text', input: 'after the upgrade' });
    expect(r.status).toBe(200);
    expect((await cb.post('/v1/feedback', { decisionId: r.body.decisionId, reward: 1 })).status).toBe(202);
    await eventually(async () => (await cb.get('/admin/policies/text/stats')).body.feedback === 1);

    // Another replica of the same build starting later changes nothing; a policy marked with a newer featurizer (a
    // newer build rolled out beside this one) is not moved back; a policy whose state was left at an older epoch
    // than its own (a new epoch committed, its state not emptied) starts over in its epoch.
    const sql2 = postgres(env.databaseUrl, { max: 1, onnotice: () => undefined });
    await sql2`update policies set config = jsonb_set(config, '{features,version}', '99') where name = 'text'`;
    await sql2`update policies set epoch = epoch + 1, version = version + 1 where name = 'caller'`;
    await sql2.end();
    const c2 = await startService(env, 1);
    running.push(c2);
    const cc = client(c2.url);
    expect((await cc.get('/admin/policies/text')).body).toMatchObject({ epoch: epochBefore + 1, features: { version: 99 } });
    const caller = (await cc.get('/admin/policies/caller/stats')).body;
    expect(caller).toMatchObject({ epoch: callerBefore.epoch + 1, decisions: 0, feedback: 0 });
    const k = await cc.post('/v1/route', { policy: 'caller', features: [1, 1] });
    expect((await cc.post('/v1/feedback', { decisionId: k.body.decisionId, reward: 1 })).status).toBe(202);
    await eventually(async () => (await cc.get('/admin/policies/caller/stats')).body.feedback === 1);
  }, 120_000);
});
