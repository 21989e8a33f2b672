import { createRng } from '@app/bandits';
import { BreakerStore, deleteKeysWithPrefix, KeyRevocations, ModelEnergyStore, PolicyStateStore, RedisKeys } from '@app/store';
import { type Cluster } from 'ioredis';
import { type Accepted, type Routed, sequentialFold, worstRelErr } from '../support/fold.js';
import { client, connectRedis, eventually, freshEnvironment, type Running, settled, startService } from '../support/harness.js';
import { type PrivateRedisCluster, startPrivateRedisCluster } from '../support/private-services.js';

/**
 * The real api and worker on a private Redis Cluster of 3 masters (no replicas), started from the installed
 * redis-server: routing, feedback and energy readings learnt exactly once (the state equals the sequential fold of
 * what was accepted), fgts-cdb duels, a rebuild over HTTP giving the same state, each policy's keys in one slot
 * and the BullMQ queue's in one, key revocations over pub/sub, breakers, model energy, and a prefix deleted from
 * every node.
 */
const DIM = 4;
const ARMS = ['m1', 'm2', 'm3'];

describe('on a Redis Cluster (3 masters)', () => {
  let cluster: PrivateRedisCluster;
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running | undefined;
  let admin: ReturnType<typeof client>;
  let redis: Cluster;
  let policies: [string, string];

  const slot = async (key: string) => Number(await redis.cluster('KEYSLOT', key));
  /** The master serving `key` (host:port). */
  const nodeOf = async (key: string) => redis.slots[await slot(key)][0];

  beforeAll(async () => {
    cluster = await startPrivateRedisCluster(3);
    env = await freshEnvironment('cluster');
    svc = await startService({ ...env, redisClusterNodes: cluster.nodes }, 1);
    admin = client(svc.url);
    redis = connectRedis(cluster.nodes) as Cluster;
    await redis.ping();
    // Two policies whose state lives on different masters.
    const keys = new RedisKeys(env.prefix);
    const names = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
    const first = await nodeOf(keys.state(names[0]));
    let second: string | undefined;
    for (const n of names.slice(1)) if ((await nodeOf(keys.state(n))) !== first) second = second ?? n;
    policies = [names[0], second!];
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
    await redis?.quit();
    await env?.drop();
    cluster?.stop();
  });

  it('routes, learns every accepted event once and rebuilds the same state', async () => {
    for (const m of ARMS) expect((await admin.put(`/admin/models/${m}`, {})).status).toBe(200);
    for (const p of policies)
      expect(
        (
          await admin.put(`/admin/policies/${p}`, {
            algorithm: 'linucb',
            arms: ARMS,
            features: { source: 'caller', dim: DIM },
            feedback: { aggregation: 'all' },
          })
        ).status,
      ).toBe(201);

    const rng = createRng(0xc1);
    const routed = new Map<string, Routed[]>(policies.map((p) => [p, []]));
    const accepted = new Map<string, Accepted[]>(policies.map((p) => [p, []]));
    for (let round = 0; round < 4; round++) {
      for (const p of policies) {
        const batch: Routed[] = [];
        for (let i = 0; i < 20; i++) {
          const x = Array.from({ length: DIM }, () => Math.round(rng.next() * 1000) / 1000);
          const r = await admin.post('/v1/route', { policy: p, features: x });
          expect(r.status).toBe(200);
          batch.push({ id: r.body.decisionId, arm: r.body.model, x });
        }
        routed.get(p)!.push(...batch);
        // Feedback for every decision in one batch (its dedupe marks and counters span slots and nodes), a single
        // feedback and an energy reading for some, and one event sent twice.
        const rewards = batch.map((d) => ({ decisionId: d.id, reward: d.arm === 'm2' ? 0.9 : 0.2, eventId: `fb-${d.id}` }));
        const fb = await admin.post('/v1/feedback/batch', { events: rewards });
        expect(fb.status).toBe(202);
        expect(fb.body.results.map((r: { status: string }) => r.status)).toEqual(rewards.map(() => 'accepted'));
        accepted.get(p)!.push(...rewards.map(({ decisionId, reward }) => ({ decisionId, reward })));
        for (const d of batch.slice(0, 5)) {
          const e = { decisionId: d.id, joules: 10 + rng.int(50), latencyMs: 100 + rng.int(900) };
          const r = await admin.post('/v1/energy', e);
          expect([r.status, r.body.status]).toEqual([202, 'accepted']);
          accepted.get(p)!.push(e);
        }
        const one = { decisionId: batch[7].id, reward: 1, eventId: `again-${p}-${round}` };
        const [a, b] = [await admin.post('/v1/feedback', one), await admin.post('/v1/feedback', one)];
        expect([a.body.status, b.body.status]).toEqual(['accepted', 'duplicate']);
        accepted.get(p)!.push({ decisionId: one.decisionId, reward: 1 });
      }
    }

    const store = new PolicyStateStore(redis, env.prefix);
    for (const p of policies) {
      const want = { decisions: routed.get(p)!.length, feedback: 4 * 21, energyReadings: 4 * 5 };
      await eventually(async () => {
        const s = (await admin.get(`/admin/policies/${p}/stats`)).body;
        return s.decisions === want.decisions && s.feedback === want.feedback && s.energyReadings === want.energyReadings;
      }, 30_000);
      const { seq, arms: live } = await settled(async () => ({ ...(await store.read(store.policyTarget(p))) }), ['seq']);
      const expected = sequentialFold(DIM, routed.get(p)!, accepted.get(p)!);
      expect(worstRelErr(live, expected)).toBeLessThan(1e-9);

      const r = await admin.post(`/admin/policies/${p}/rebuild`);
      expect(r.status).toBe(200);
      // Decisions and events of the log.
      expect(r.body.eventsReplayed).toBe(routed.get(p)!.length + accepted.get(p)!.length);
      const rebuilt = await store.read(store.policyTarget(p));
      expect(rebuilt.seq).toBeGreaterThan(seq);
      expect(worstRelErr(rebuilt.arms, expected)).toBeLessThan(1e-9);
      expect(worstRelErr(rebuilt.arms, live)).toBeLessThan(1e-12);
    }
    // The api's copy follows the rebuilt state: routing goes on.
    expect((await admin.post('/v1/route', { policy: policies[0], features: [1, 0, 0, 0] })).status).toBe(200);
    // Health sees Redis, Postgres and the queue with its one worker (BullMQ lists clients on every node).
    // A transient cluster error in a batch (e.g. a slot-cache refresh) pauses learning for a moment (the outage
    // pause, as for any outage): wait for it to end; nothing may have failed.
    await eventually(async () => {
      const q = (await admin.get('/health/dependencies')).body?.dependencies?.queue?.details;
      return q?.workers === 1 && q?.learningPausedForMs === 0;
    });
    const health = (await admin.get('/health/dependencies')).body;
    for (const d of ['redis', 'postgres', 'queue']) expect(health.dependencies[d]).toMatchObject({ ok: true, lastError: null });
    expect(health.dependencies.queue.details).toMatchObject({ failed: 0 });
  }, 60_000);

  it("learns fgts-cdb duels' pairwise preferences once, into the shared statistics and the replica's chains", async () => {
    expect((await admin.put('/admin/policies/duel', { algorithm: 'fgts-cdb', arms: ARMS })).status).toBe(201);
    const store = new PolicyStateStore(redis, env.prefix);
    for (let i = 0; i < 20; i++) {
      const r = await admin.post('/v1/route', { policy: 'duel', input: `Solve ${i}x = ${2 * i}`, mode: 'duel' });
      expect(r.status).toBe(200);
      const [a, b] = r.body.models as string[];
      const pick = { decisionId: r.body.decisionId, winner: a < b ? a : b, eventId: `duel-${i}` };
      expect((await admin.post('/v1/feedback/pairwise', pick)).body.status).toBe('accepted');
      expect((await admin.post('/v1/feedback/pairwise', pick)).body.status).toBe('duplicate');
    }
    await eventually(async () => {
      const s = (await admin.get('/admin/policies/duel/stats')).body;
      return s.events?.learned === 20 && s.duelRecords === 20;
    }, 20_000);
    const before = await settled(async () => ({ ...(await store.read(store.policyTarget('duel'))) }), ['seq']);
    const r = await admin.post('/admin/policies/duel/rebuild');
    expect([r.status, r.body.decisions, r.body.events]).toEqual([200, 20, 20]);
    const after = await store.read(store.policyTarget('duel'));
    expect(worstRelErr(after.arms, before.arms)).toBeLessThan(1e-12);
  });

  it("keeps each policy's keys in one slot and the queue's in one, and spreads policies and decisions over the nodes", async () => {
    const keys = new RedisKeys(env.prefix);
    const slots = await Promise.all(
      policies.map(async (p) => {
        const own = [keys.state(p), keys.markers(p), keys.markerTimes(p)];
        for (const k of own) expect(await redis.exists(k)).toBe(1);
        const s = await Promise.all(own.map(slot));
        expect(new Set(s).size).toBe(1);
        return s[0];
      }),
    );
    expect(slots[0]).not.toBe(slots[1]);
    expect(await nodeOf(keys.state(policies[0]))).not.toBe(await nodeOf(keys.state(policies[1])));

    const perNode = await Promise.all(redis.nodes('master').map((n) => n.keys(`${env.prefix}:*`)));
    const all = perNode.flat();
    const queue = all.filter((k) => k.startsWith(`${env.prefix}:{bull}:`));
    expect(queue.length).toBeGreaterThan(3);
    expect(new Set(await Promise.all(queue.map(slot))).size).toBe(1);
    expect(all.filter((k) => k.includes(':bull:'))).toEqual([]);
    // Hot copies of decisions live wherever their id hashes: on every master here.
    const hot = perNode.map((ks) => ks.filter((k) => k.startsWith(keys.decision(''))).length);
    expect(hot.every((n) => n > 0)).toBe(true);
  });

  it('announces key revocations to subscribers, shares breakers and model energy, and deletes a prefix on every node', async () => {
    const revocations = new KeyRevocations(redis, env.prefix);
    const heard: string[] = [];
    const sub = revocations.subscribe((id) => heard.push(id));
    try {
      const key = await admin.post('/admin/keys', { name: 'team', scope: 'route' });
      expect(key.status).toBe(201);
      const asTeam = client(svc!.url, key.body.secret);
      expect((await asTeam.post('/v1/route', { policy: policies[0], features: [0, 1, 0, 0] })).status).toBe(200);
      // Time for the test's own subscription to be set up.
      await new Promise((r) => setTimeout(r, 300));
      expect((await admin.del(`/admin/keys/${key.body.id}`)).status).toBe(204);
      await eventually(async () => heard.includes(key.body.id), 5000);
      // The api's own subscription: refused within 1 s, as on one Redis.
      await eventually(async () => (await asTeam.post('/v1/route', { policy: policies[0], features: [0, 1, 0, 0] })).status === 401, 1000, 20);
    } finally {
      await sub.close();
    }

    const breakers = new BreakerStore(redis, env.prefix);
    const settings = { threshold: 2, cooldownMs: 60_000, probeTtlMs: 1000 };
    const at = Date.now();
    await breakers.failure('m3', settings, at);
    expect(await breakers.failure('m3', settings, at)).toBe('check');
    expect(await breakers.verdict('m3', settings, at, 'down')).toBe('open');
    expect((await breakers.all()).get('m3')?.state).toBe('open');
    await breakers.success('m3', settings);

    // A model-level energy reading: the estimate is written to the model-energy hash in one transaction.
    expect((await admin.post('/v1/energy', { model: 'm1', joules: 5, outputTokens: 10 })).status).toBe(202);
    const energy = new ModelEnergyStore(redis, env.prefix);
    await eventually(async () => (await energy.read())?.get('m1')?.readings === 1, 10_000);

    await svc!.close();
    svc = undefined;
    const count = async () => (await Promise.all(redis.nodes('master').map((n) => n.dbsize()))).reduce((a, b) => a + b, 0);
    expect(await count()).toBeGreaterThan(0);
    expect(await deleteKeysWithPrefix(redis, env.prefix)).toBeGreaterThan(0);
    expect(await count()).toBe(0);
  });
});
