import { policyConfigSchema, type PolicyConfig } from '@app/contracts';
import { createSql, PoliciesRepository, PriorStatsRepository, type Sql } from '@app/persistence';
import { freshEnvironment } from '../support/harness.js';

// PriorStatsRepository on a real Postgres: exact float64 round trip, replace/clear, changes inside the policy's
// row-locked update (serialised appends, rolled back with it), and removal with the policy.
const cfg = (): PolicyConfig => policyConfigSchema.parse({ algorithm: 'linucb', arms: ['a', 'b'], features: { source: 'caller', dim: 2 } });

describe('PriorStatsRepository (real Postgres)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let sql: Sql;
  let sql2: Sql;
  let policies: PoliciesRepository;
  let stats: PriorStatsRepository;

  beforeAll(async () => {
    env = await freshEnvironment('repo_prior_stats');
    sql = createSql(env.databaseUrl, 4);
    sql2 = createSql(env.databaseUrl, 4);
    policies = new PoliciesRepository(sql);
    stats = new PriorStatsRepository(sql);
  });
  afterAll(async () => {
    await sql.end();
    await sql2.end();
    await env.drop();
  });

  it('stores per-arm float64 vectors bit for bit; replace drops arms not given; clear removes all', async () => {
    await policies.put('p1', cfg(), 'k', () => false);
    const a = Float64Array.from([0.1, 1 / 3, -1e-300, 5e-324, 1.7976931348623157e308, -0]);
    await stats.replace(
      'p1',
      new Map([
        ['a', a],
        ['b', Float64Array.from([2])],
      ]),
    );
    const read = await stats.read('p1');
    expect([...read.keys()].sort()).toEqual(['a', 'b']);
    expect(Buffer.from(read.get('a')!.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    await stats.replace('p1', new Map([['b', Float64Array.from([3])]]));
    expect(await stats.read('p1')).toEqual(new Map([['b', Float64Array.from([3])]]));
    await stats.clear('p1');
    expect((await stats.read('p1')).size).toBe(0);
  });

  it('changes inside the policy update commit with it, and roll back with it', async () => {
    await policies.put('p2', cfg(), 'k', () => false);
    await policies.update('p2', 'k', 'prior', async (c, tx) => {
      await stats.replace('p2', new Map([['a', Float64Array.from([1])]]), tx);
      return c;
    });
    expect(await stats.read('p2')).toEqual(new Map([['a', Float64Array.from([1])]]));
    await expect(
      policies.update('p2', 'k', 'prior', async (_c, tx) => {
        await stats.replace('p2', new Map([['b', Float64Array.from([9])]]), tx);
        throw new Error('fit failed');
      }),
    ).rejects.toThrow('fit failed');
    expect(await stats.read('p2')).toEqual(new Map([['a', Float64Array.from([1])]]));
  });

  it('appends under the row lock from two pools are serialised: none is lost', async () => {
    await policies.put('p3', cfg(), 'k', () => false);
    const pools = [new PoliciesRepository(sql), new PoliciesRepository(sql2)];
    const stats2 = new PriorStatsRepository(sql2);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        pools[i % 2].update('p3', `k${i}`, 'prior', async (c, tx) => {
          const repo = i % 2 ? stats2 : stats;
          const n = (await repo.read('p3', tx)).get('a')?.[0] ?? 0;
          await repo.replace('p3', new Map([['a', Float64Array.from([n + 1])]]), tx);
          return c;
        }),
      ),
    );
    expect((await stats.read('p3')).get('a')).toEqual(Float64Array.from([10]));
  });

  it('deleting the policy deletes its statistics; a re-created policy has none', async () => {
    await policies.put('p4', cfg(), 'k', () => false);
    await stats.replace('p4', new Map([['a', Float64Array.from([1])]]));
    expect(await policies.delete('p4', 'k')).toBe(true);
    expect((await stats.read('p4')).size).toBe(0);
    await policies.put('p4', cfg(), 'k', () => false);
    expect((await stats.read('p4')).size).toBe(0);
    await expect(stats.replace('ghost', new Map([['a', Float64Array.from([1])]]))).rejects.toThrow(/foreign key/);
  });
});
