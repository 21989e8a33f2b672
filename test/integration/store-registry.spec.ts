import { modelConfigSchema, policyConfigSchema, type Model, type Policy } from '@app/contracts';
import { RegistryStore } from '@app/store';
import { Redis } from 'ioredis';
import { freshEnvironment, REDIS_URL } from '../support/harness.js';

// RegistryStore on a real Redis: the replicas' copy of policy and model configuration.
const policy = (name: string, version: number, arms = ['a', 'b']): Policy => ({
  ...policyConfigSchema.parse({ algorithm: 'linucb', arms, features: { source: 'caller', dim: 4 } }),
  name,
  version,
  epoch: 1,
  updatedAt: new Date(1_700_000_000_000 + version).toISOString(),
});
const model = (id: string, jpt?: number): Model => ({
  id,
  ...modelConfigSchema.parse({
    upstreamModel: `up-${id}`,
    pricing: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
    ...(jpt === undefined ? {} : { energy: { joulesPerOutputToken: jpt } }),
  }),
});
const byName = <T extends { name?: string; id?: string }>(xs: T[]) => [...xs].sort((a, b) => ((a.name ?? a.id)! < (b.name ?? b.id)! ? -1 : 1));

describe('RegistryStore: policy and model registry copy (real Redis)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let redis: Redis;
  let registry: RegistryStore;

  beforeAll(async () => {
    env = await freshEnvironment('store_registry');
    redis = new Redis(REDIS_URL);
    registry = new RegistryStore(redis, env.prefix);
  });
  afterAll(async () => {
    await redis.quit();
    await env.drop();
  });

  it('round-trips policies; a put of the same name replaces it; remove deletes only that one (twice is harmless)', async () => {
    expect(await registry.policies()).toEqual([]);
    // The optional prior (theta as floats) survives the JSON copy.
    const p1: Policy = {
      ...policy('p1', 1),
      prior: { installedAt: '2024-01-01T00:00:00.000Z', records: 2, arms: { a: { theta: [0.1, -0.2, 1e-17, 3], weight: 50, records: 2 } } },
    };
    await registry.putPolicy(p1);
    await registry.putPolicy(policy('p2', 1));
    expect(byName(await registry.policies())).toEqual([p1, policy('p2', 1)]);
    await registry.putPolicy(policy('p1', 2, ['a', 'b', 'c'])); // a newer version of p1
    expect(byName(await registry.policies())).toEqual([policy('p1', 2, ['a', 'b', 'c']), policy('p2', 1)]);
    await registry.removePolicy('p1');
    await registry.removePolicy('p1');
    await registry.removePolicy('never');
    expect(await registry.policies()).toEqual([policy('p2', 1)]);
  });

  it('round-trips models (optional fields included and left out), apart from policies', async () => {
    expect(await registry.models()).toEqual([]);
    await registry.putModel(model('m1', 0.4));
    await registry.putModel(model('m2'));
    await registry.putModel(model('m1', 0.5));
    const got = byName(await registry.models());
    expect(got).toEqual([model('m1', 0.5), model('m2')]);
    expect('energy' in got[1]).toBe(false);
    await registry.removeModel('m2');
    expect(await registry.models()).toEqual([model('m1', 0.5)]);
    expect(await registry.policies()).toEqual([policy('p2', 1)]); // model writes never touch the policy hash
  });

  it('keeps one prefix apart from another', async () => {
    const other = new RegistryStore(redis, `${env.prefix}:other`);
    expect(await other.policies()).toEqual([]);
    expect(await other.models()).toEqual([]);
    await other.putPolicy(policy('p2', 9));
    expect(await registry.policies()).toEqual([policy('p2', 1)]);
    await other.removePolicy('p2');
  });

  it('announces every write and removal to subscribers, of its own prefix only', async () => {
    const heard: string[] = [];
    const other: string[] = [];
    const sub = registry.subscribe((what) => heard.push(what));
    const otherSub = new RegistryStore(redis, `${env.prefix}:other`).subscribe((what) => other.push(what));
    try {
      // The subscription connects in the background: announce until it hears.
      const deadline = Date.now() + 5000;
      while (heard.length === 0 && Date.now() < deadline) {
        await registry.putModel(model('warm'));
        await new Promise((r) => setTimeout(r, 50));
      }
      heard.length = 0;
      await registry.putPolicy(policy('ann', 1));
      await registry.putModel(model('ann-m'));
      await registry.removePolicy('ann');
      await registry.removeModel('ann-m');
      const until = Date.now() + 5000;
      while (heard.length < 4 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual(['policy:ann', 'model:ann-m', 'policy:ann', 'model:ann-m']);
      expect(other).toEqual([]);
    } finally {
      await sub.close();
      await otherSub.close();
    }
  });
});
