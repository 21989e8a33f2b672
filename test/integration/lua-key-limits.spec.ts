import { type RedisClient } from '@app/infra';
import { KeyLimitsStore, type LimitValues } from '@app/store';
import { Redis } from 'ioredis';
import { connectRedis, freshEnvironment, REDIS_URL } from '../support/harness.js';
import { type PrivateRedisCluster, startPrivateRedisCluster } from '../support/private-services.js';

// keyLimitAdmit-4.lua, keyInFlightRenew-1.lua and the charges through their typed wrapper (KeyLimitsStore), on a real Redis, from several
// connections at once (as several api replicas would).
const W = { minute: 29_000_000, day: 20_000 };
const NONE: LimitValues = { requestsPerMinute: 0, tokensPerMinute: 0, usdPerDay: 0, concurrentRequests: 0 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('keyLimitAdmit-4.lua: per-key limit counters shared by every replica (real Redis)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  const conns: Redis[] = [];
  const stores: KeyLimitsStore[] = [];
  let n = 0;
  const key = () => `key_${++n}`;

  beforeAll(async () => {
    env = await freshEnvironment('lua_key_limits');
    for (let i = 0; i < 8; i++) {
      conns.push(new Redis(REDIS_URL));
      stores.push(new KeyLimitsStore(conns[i], env.prefix));
    }
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.quit()));
    await env.drop();
  });

  it('admits exactly the limit of concurrent requests from many connections, then refuses without counting', async () => {
    const k = key();
    const limits = { ...NONE, requestsPerMinute: 25 };
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => stores[i % stores.length].admit(k, limits, W)));
    expect(answers.filter((a) => a === null)).toHaveLength(25);
    expect(answers.filter((a) => a === 'requestsPerMinute')).toHaveLength(75);
    expect(await stores[0].read(k, W)).toEqual({ requests: 25, tokens: 0, usd: 0, events: 0, inFlight: 0 });
    // the next window starts from zero
    expect(await stores[1].admit(k, limits, { ...W, minute: W.minute + 1 })).toBeNull();
  });

  it('keyEventsAdmit-1.lua: admits what fits in the limit of the minute, counting every event, from many connections', async () => {
    const k = key();
    // 100 requests of 3 events, limit 30: exactly 10 are admitted (each fitted in what was left), 30 events counted.
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => stores[i % stores.length].admitEvents(k, 3, 30, W)));
    expect(answers.filter(Boolean)).toHaveLength(10);
    expect((await stores[0].read(k, W)).events).toBe(30);
    // A request whose events do not fit is refused whole and counts nothing (29 + 5 > 30); one that fits exactly is
    // admitted (29 + 1), and then nothing more.
    const k2 = key();
    expect(await stores[0].admitEvents(k2, 29, 30, W)).toBe(true);
    expect(await stores[1].admitEvents(k2, 5, 30, W)).toBe(false);
    expect(await stores[2].admitEvents(k2, 1, 30, W)).toBe(true);
    expect(await stores[2].admitEvents(k2, 1, 30, W)).toBe(false);
    expect((await stores[0].read(k2, W)).events).toBe(30);
    expect(await stores[3].admitEvents(k2, 1, 30, { ...W, minute: W.minute + 1 })).toBe(true);
    expect(await stores[0].read(k2, W)).toEqual({ requests: 0, tokens: 0, usd: 0, events: 30, inFlight: 0 });
  });

  it('refuses once charged tokens or USD reach their limit; other limits are not counted', async () => {
    const k = key();
    const limits = { ...NONE, tokensPerMinute: 100, usdPerDay: 0.05 };
    expect(await stores[0].admit(k, limits, W)).toBeNull();
    await stores[1].charge(k, { tokens: 99, usd: 0.01 }, W);
    expect(await stores[2].admit(k, limits, W)).toBeNull();
    await stores[3].charge(k, { tokens: 1, usd: 0 }, W);
    expect(await stores[4].admit(k, limits, W)).toBe('tokensPerMinute');
    // a new minute: tokens start again, the day's spend stays
    const next = { ...W, minute: W.minute + 1 };
    await Promise.all([stores[5].charge(k, { tokens: 0, usd: 0.015 }, next), stores[6].charge(k, { tokens: 0, usd: 0.015 }, next)]);
    expect(await stores[7].admit(k, limits, next)).toBeNull();
    await stores[0].charge(k, { tokens: 0, usd: 0.0101 }, next); // 0.0501
    expect(await stores[0].admit(k, limits, next)).toBe('usdPerDay');
    expect(await stores[0].read(k, next)).toEqual({ requests: 0, tokens: 0, usd: expect.closeTo(0.0501, 9), events: 0, inFlight: 0 });
  });

  it('holds at most the limit of calls in flight from many connections; a released or expired lease frees a slot', async () => {
    const k = key();
    const limits = { ...NONE, concurrentRequests: 5, requestsPerMinute: 100 };
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % stores.length].admit(k, limits, W, `t${i}`, 60_000)));
    const held = answers.flatMap((a, i) => (a === null ? [`t${i}`] : []));
    expect(held).toHaveLength(5);
    expect(answers.filter((a) => a === 'concurrentRequests')).toHaveLength(35);
    // refused requests count nothing: not against the request limit, not as calls in flight
    expect(await stores[0].read(k, W)).toEqual({ requests: 5, tokens: 0, usd: 0, events: 0, inFlight: 5 });
    await stores[1].release(k, [held[0], 'not-held']);
    expect(await stores[2].admit(k, limits, W, 'u1', 60_000)).toBeNull();
    expect(await stores[3].admit(k, limits, W, 'u2', 60_000)).toBe('concurrentRequests');
    // a lease nobody renews expires on Redis's clock; one that is renewed stays
    const k2 = key();
    const two = { ...NONE, concurrentRequests: 2 };
    expect(await stores[0].admit(k2, two, W, 'short', 1500)).toBeNull();
    expect(await stores[0].admit(k2, two, W, 'renewed', 1500)).toBeNull();
    expect(await stores[1].admit(k2, two, W, 'third', 1500)).toBe('concurrentRequests');
    await sleep(800);
    expect(await stores[2].renew(k2, ['renewed'], 1500)).toBe(1);
    await sleep(900); // 'short' is past its deadline, 'renewed' has 600 ms left
    expect((await stores[0].read(k2, W)).inFlight).toBe(1);
    expect(await stores[1].admit(k2, two, W, 'fourth', 1500)).toBeNull();
    expect(await stores[1].admit(k2, two, W, 'fifth', 1500)).toBe('concurrentRequests');
    // leases Redis lost (a restart without persistence) are taken again by the replicas still running those calls
    await conns[0].del(`${env.prefix}:{k:${k2}}:inflight`);
    expect((await stores[0].read(k2, W)).inFlight).toBe(0);
    expect(await stores[2].renew(k2, ['renewed', 'fourth'], 1500)).toBe(0);
    expect((await stores[0].read(k2, W)).inFlight).toBe(2);
    expect(await stores[1].admit(k2, two, W, 'sixth', 1500)).toBe('concurrentRequests');
    // without a lease a limit on calls in flight cannot be enforced: refused by the wrapper, not silently unlimited
    await expect(stores[0].admit(k2, two, W)).rejects.toThrow(/lease/);
  });

  it('keeps every counter of a key in one hash-tagged slot, each expiring', async () => {
    const k = key();
    await stores[0].admit(k, { requestsPerMinute: 5, tokensPerMinute: 5, usdPerDay: 5, concurrentRequests: 5 }, W, 'lease-1', 30_000);
    await stores[0].charge(k, { tokens: 3, usd: 0.5 }, W);
    const names = (await conns[0].keys(`${env.prefix}:{k:${k}}:*`)).sort();
    expect(names).toEqual([
      `${env.prefix}:{k:${k}}:inflight`,
      `${env.prefix}:{k:${k}}:requests:${W.minute}`,
      `${env.prefix}:{k:${k}}:tokens:${W.minute}`,
      `${env.prefix}:{k:${k}}:usd:${W.day}`,
    ]);
    const [inflight, ...ttls] = await Promise.all(names.map((name) => conns[0].pttl(name)));
    expect(inflight).toBeGreaterThan(20_000);
    expect(inflight).toBeLessThanOrEqual(30_000);
    expect(ttls[0]).toBeGreaterThan(60_000);
    expect(ttls[0]).toBeLessThanOrEqual(120_000);
    expect(ttls[1]).toBeLessThanOrEqual(120_000);
    expect(ttls[2]).toBeGreaterThan(86_400_000);
    expect(ttls[2]).toBeLessThanOrEqual(2 * 86_400_000);
  });
});

describe('keyLimitAdmit-4.lua on a Redis Cluster (private, 3 masters)', () => {
  let cluster: PrivateRedisCluster;
  let redis: RedisClient;

  beforeAll(async () => {
    cluster = await startPrivateRedisCluster(3);
    redis = connectRedis(cluster.nodes);
  }, 60_000);
  afterAll(async () => {
    await redis?.quit().catch(() => undefined);
    cluster?.stop();
  });

  it('admits and charges the keys of many API keys (one slot per API key, no CROSSSLOT)', async () => {
    const store = new KeyLimitsStore(redis, 'rt');
    const limits = { requestsPerMinute: 2, tokensPerMinute: 10, usdPerDay: 1, concurrentRequests: 1 };
    for (let i = 0; i < 20; i++) {
      const k = `key_c${i}`;
      expect(await store.admit(k, limits, W, `l${i}`, 10_000)).toBeNull();
      expect(await store.renew(k, [`l${i}`], 10_000)).toBe(1);
      await store.charge(k, { tokens: 10, usd: 0.5 }, W);
      expect(await store.admit(k, limits, W, `m${i}`, 10_000)).toBe('tokensPerMinute');
      expect(await store.admitEvents(k, 3, 3, W)).toBe(true);
      expect(await store.admitEvents(k, 1, 3, W)).toBe(false);
      expect(await store.read(k, W)).toEqual({ requests: 1, tokens: 10, usd: 0.5, events: 3, inFlight: 1 });
      await store.release(k, [`l${i}`]);
      expect((await store.read(k, W)).inFlight).toBe(0);
    }
  });
});
