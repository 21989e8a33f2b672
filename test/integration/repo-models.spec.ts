import { modelConfigSchema, policyConfigSchema, type ModelConfig } from '@app/contracts';
import { createSql, ModelsRepository, PoliciesRepository, type Sql } from '@app/persistence';
import { freshEnvironment } from '../support/harness.js';

// ModelsRepository on a real Postgres: upsert round trips, ordering, and deletion refused while a policy uses the model.
const mc = (extra: Record<string, unknown> = {}): ModelConfig => modelConfigSchema.parse({ upstreamModel: 'gpt-x', ...extra });

describe('ModelsRepository (real Postgres)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let sql: Sql;
  let models: ModelsRepository;
  let policies: PoliciesRepository;

  beforeAll(async () => {
    env = await freshEnvironment('repo_models');
    sql = createSql(env.databaseUrl, 2);
    models = new ModelsRepository(sql);
    policies = new PoliciesRepository(sql);
  });
  afterAll(async () => {
    await sql.end();
    await env.drop();
  });

  it('upsert round-trips the config; a second upsert replaces it whole; list is ordered by id', async () => {
    expect(await models.get('m-b')).toBeNull();
    const full = mc({
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKeyEnv: 'UPSTREAM_B',
      pricing: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
      energy: { joulesPerOutputToken: 0.35 },
      enabled: false,
    });
    expect(await models.upsert('m-b', full)).toEqual({ id: 'm-b', ...full });
    expect(await models.get('m-b')).toEqual({ id: 'm-b', ...full });
    await models.upsert('m-a', mc());
    await models.upsert('m-c', mc());
    const [{ created: c1, updated: u1 }] = await sql<
      { created: Date; updated: Date }[]
    >`select created_at as created, updated_at as updated from models where id = 'm-b'`;
    // Replaced, not merged: fields left out are gone.
    await models.upsert('m-b', mc({ upstreamModel: 'other' }));
    expect(await models.get('m-b')).toEqual({ id: 'm-b', ...mc({ upstreamModel: 'other' }) });
    const [{ created: c2, updated: u2 }] = await sql<
      { created: Date; updated: Date }[]
    >`select created_at as created, updated_at as updated from models where id = 'm-b'`;
    expect(c2).toEqual(c1);
    expect(u2.getTime()).toBeGreaterThan(u1.getTime());
    expect((await models.list()).map((m) => m.id)).toEqual(['m-a', 'm-b', 'm-c']);
    expect(await sql`select 1 from models`).toHaveLength(3);
  });

  it('deleteUnlessUsed refuses while policies list the model as an arm, naming them; deletes otherwise', async () => {
    await models.upsert('used', mc());
    await models.upsert('us', mc()); // a prefix of an arm name is not that arm
    await models.upsert('free', mc());
    const cfg = (arms: string[]) => policyConfigSchema.parse({ algorithm: 'linucb', arms, features: { source: 'caller', dim: 4 } });
    await policies.put('p2', cfg(['m-a', 'used']), 'k', () => false);
    await policies.put('p1', cfg(['used']), 'k', () => false);
    await policies.put('p3', cfg(['m-a']), 'k', () => false);
    const refused = await models.deleteUnlessUsed('used');
    expect(refused.deleted).toBe(false);
    expect([...refused.usedBy].sort()).toEqual(['p1', 'p2']);
    expect(await models.get('used')).not.toBeNull();
    expect(await models.deleteUnlessUsed('us')).toEqual({ deleted: true, usedBy: [] });
    expect(await models.deleteUnlessUsed('free')).toEqual({ deleted: true, usedBy: [] });
    expect(await models.get('free')).toBeNull();
    expect(await models.deleteUnlessUsed('free')).toEqual({ deleted: false, usedBy: [] }); // already gone
    // Once no policy uses it any more, it can go.
    await policies.delete('p1', 'k');
    await policies.update('p2', 'k', 'replace', (c) => ({ ...c, arms: ['m-a'] }));
    expect(await models.deleteUnlessUsed('used')).toEqual({ deleted: true, usedBy: [] });
  });
});
