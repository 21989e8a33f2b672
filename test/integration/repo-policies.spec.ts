import { jest } from '@jest/globals';
import { policyConfigSchema, type PolicyConfig } from '@app/contracts';
import { createSql, DecisionsRepository, PoliciesRepository, type Sql } from '@app/persistence';
import { freshEnvironment } from '../support/harness.js';

// PoliciesRepository on a real Postgres: versions, epochs (also across delete and re-create), the audit trail
// written in the same transaction, and row-locked updates.
const cfg = (arms = ['a', 'b'], extra: Record<string, unknown> = {}): PolicyConfig =>
  policyConfigSchema.parse({ algorithm: 'linucb', arms, features: { source: 'caller', dim: 4 }, ...extra });

describe('PoliciesRepository (real Postgres)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let sql: Sql;
  let sql2: Sql;
  let repo: PoliciesRepository;

  beforeAll(async () => {
    env = await freshEnvironment('repo_policies');
    sql = createSql(env.databaseUrl, 4);
    sql2 = createSql(env.databaseUrl, 4);
    repo = new PoliciesRepository(sql);
  });
  afterAll(async () => {
    await sql.end();
    await sql2.end();
    await env.drop();
  });

  it('creates at version 1, epoch 1, without asking whether to reset; get and list return it', async () => {
    expect(await repo.get('alpha')).toBeNull();
    const resetState = jest.fn(() => true);
    const res = await repo.put('alpha', cfg(), 'key_1', resetState);
    expect(resetState).not.toHaveBeenCalled();
    expect(res).toMatchObject({ created: true, epochChanged: false, policy: { ...cfg(), name: 'alpha', version: 1, epoch: 1 } });
    expect(new Date(res.policy.updatedAt).toISOString()).toBe(res.policy.updatedAt);
    expect(await repo.get('alpha')).toEqual(res.policy);
    await repo.put('aardvark', cfg(['z']), 'key_1', () => false);
    expect((await repo.list()).map((p) => p.name)).toEqual(['aardvark', 'alpha']);
    const [audit] = await repo.auditTrail('alpha');
    expect(audit).toMatchObject({ action: 'create', actor: 'key_1', before: null, after: res.policy });
  });

  it('a replace bumps the version; the epoch only when resetState says so (asked with the stored config)', async () => {
    const first = (await repo.put('beta', cfg(), 'k', () => false)).policy;
    const resetState = jest.fn((before: PolicyConfig) => before.arms.length !== 3);
    const same = await repo.put('beta', cfg(['a', 'b', 'c']), 'k', resetState);
    expect(resetState).toHaveBeenCalledWith(cfg());
    expect(same).toMatchObject({ created: false, epochChanged: true, policy: { version: 2, epoch: 2, arms: ['a', 'b', 'c'] } });
    const kept = await repo.put('beta', cfg(['a', 'b', 'c'], { objective: { quality: 1, energy: 0.5 } }), 'k2', resetState);
    expect(kept).toMatchObject({ created: false, epochChanged: false, policy: { version: 3, epoch: 2, objective: { energy: 0.5 } } });
    expect(kept.policy.updatedAt >= first.updatedAt).toBe(true);
    const trail = await repo.auditTrail('beta');
    expect(trail.map((a) => [a.action, a.actor])).toEqual([
      ['replace', 'k2'],
      ['replace', 'k'],
      ['create', 'k'],
    ]); // newest first
    expect(trail[0]).toMatchObject({ before: same.policy, after: kept.policy });
  });

  it('update: null for a missing policy; applies the change under the row lock, bumps version (and epoch if asked), audits', async () => {
    expect(await repo.update('missing', 'k', 'objective', (c) => c)).toBeNull();
    expect(await repo.auditTrail('missing')).toEqual([]);
    await repo.put('gamma', cfg(), 'k', () => false);
    const reset = await repo.update('gamma', 'k3', 'reset', (c) => c, true);
    expect(reset).toMatchObject({ version: 2, epoch: 2 });
    const objective = await repo.update('gamma', 'k4', 'objective', (c) => ({ ...c, objective: { ...c.objective, cost: 2 } }));
    expect(objective).toMatchObject({ version: 3, epoch: 2, objective: { cost: 2 } });
    expect(await repo.get('gamma')).toEqual(objective);
    const [last, prev] = await repo.auditTrail('gamma');
    expect(last).toMatchObject({ action: 'objective', actor: 'k4', before: reset, after: objective });
    expect(prev).toMatchObject({ action: 'reset', actor: 'k3' });
  });

  it('concurrent updates on two pools are serialised by the row lock: none is lost', async () => {
    await repo.put('delta', cfg(['a'], { params: { alpha: 0 } }), 'k', () => false);
    const repo2 = new PoliciesRepository(sql2);
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? repo : repo2).update('delta', `k${i}`, 'objective', (c) => ({ ...c, params: { ...c.params, alpha: c.params.alpha! + 1 } })),
      ),
    );
    expect(await repo.get('delta')).toMatchObject({ version: 13, params: { alpha: 12 } });
    const versions = (await repo.auditTrail('delta')).map((a) => (a.after as { version: number }).version);
    expect(versions).toEqual(Array.from({ length: 13 }, (_, i) => 13 - i));
  });

  it('delete: true once (audited with the deleted policy), then false', async () => {
    const p = (await repo.put('eps', cfg(), 'k', () => false)).policy;
    expect(await repo.delete('eps', 'k9')).toBe(true);
    expect(await repo.get('eps')).toBeNull();
    expect(await repo.delete('eps', 'k9')).toBe(false);
    const trail = await repo.auditTrail('eps');
    expect(trail.map((a) => a.action)).toEqual(['delete', 'create']);
    expect(trail[0]).toMatchObject({ actor: 'k9', before: p, after: null });
  });

  it('a name used before starts after its last epoch (deleted policy or logged decisions)', async () => {
    await repo.put('zeta', cfg(), 'k', () => false);
    await repo.update('zeta', 'k', 'reset', (c) => c, true);
    await repo.update('zeta', 'k', 'reset', (c) => c, true); // epoch 3
    await repo.delete('zeta', 'k');
    expect((await repo.put('zeta', cfg(), 'k', () => false)).policy).toMatchObject({ version: 1, epoch: 4 });
    // No policy row or audit, only decisions logged under the name (e.g. audit rows pruned).
    const decisions = new DecisionsRepository(sql);
    const dec = {
      id: 'eta-d',
      policy: 'eta',
      epoch: 6,
      policyVersion: 1,
      arm: 'a',
      armIndex: 0,
      propensity: 1,
      x: [0, 0, 0, 0],
      owner: 'o',
      mode: 'single',
      estimates: [],
      createdAt: Date.now(),
    };
    await decisions.insertMany([dec]);
    expect((await repo.put('eta', cfg(), 'k', () => false)).policy.epoch).toBe(7);
  });

  it('auditTrail: limit, and recordAudit keeps its detail as "after"', async () => {
    await repo.put('theta', cfg(), 'k', () => false);
    await repo.recordAudit('theta', 'rebuild', 'k5', { eventsReplayed: 42 });
    await repo.recordAudit('theta', 'prior', 'k6', { records: 3 });
    const trail = await repo.auditTrail('theta', 2);
    expect(trail).toHaveLength(2);
    expect(trail.map((a) => [a.action, a.actor, a.before, a.after])).toEqual([
      ['prior', 'k6', null, { records: 3 }],
      ['rebuild', 'k5', null, { eventsReplayed: 42 }],
    ]);
    expect(trail[0].at).toBeInstanceOf(Date);
  });

  // `select … for update` locks nothing while the row does not exist: two concurrent PUTs of a new name must still
  // be one create and one replace (with the epoch decided by resetState), never two creates.
  it('two concurrent creates of one new name: exactly one is the create, the other a replace', async () => {
    const repo2 = new PoliciesRepository(sql2);
    await Promise.all([sql`select 1`, sql2`select 1`]); // both pools connected
    // Hold both transactions at their first statement, then let them go together.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = sql.begin(async (tx) => {
      await tx`lock table policies in exclusive mode`;
      locked();
      await gate;
    });
    await isLocked;
    const a = repo.put('iota', cfg(['a']), 'ka', () => true);
    const b = repo2.put('iota', policyConfigSchema.parse({ algorithm: 'beta-ts', arms: ['a', 'b'], features: { source: 'caller', dim: 8 } }), 'kb', () => true);
    for (let i = 0; i < 200; i++) {
      const [{ n }] = await sql2<
        { n: number }[]
      >`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
      if (n >= 2) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    release();
    await holder;
    const results = await Promise.all([a, b]);
    const trail = await repo.auditTrail('iota');
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(trail.map((t) => t.action).sort()).toEqual(['create', 'replace']);
    expect(results.find((r) => !r.created)).toMatchObject({ epochChanged: true });
  });
});
