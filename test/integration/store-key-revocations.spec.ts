import { KeyRevocations, REVOCATION_MEMORY_MS, RedisKeys } from '@app/store';
import { Redis } from 'ioredis';
import { eventually, freshEnvironment, REDIS_URL } from '../support/harness.js';

// KeyRevocations on a real Redis: the remembered set (read on every (re)connect) and the pub/sub announcement.
describe('KeyRevocations: revoked API keys reach every replica (real Redis)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let redis: Redis;
  let revocations: KeyRevocations;
  let channel: string;

  const subscribers = async () => ((await redis.pubsub('NUMSUB', channel)) as [string, number])[1];
  const clientsNamed = async (name: string) =>
    ((await redis.client('LIST')) as string)
      .split('\n')
      .filter((l) => l.includes(` name=${name} `))
      .map((l) => /\bid=(\d+)/.exec(l)![1]);

  beforeAll(async () => {
    env = await freshEnvironment('store_revocations');
    redis = new Redis(REDIS_URL);
    revocations = new KeyRevocations(redis, env.prefix);
    channel = new RedisKeys(env.prefix).keyRevocationChannel();
  });
  afterAll(async () => {
    await redis.quit();
    await env.drop();
  });

  it('remembers revocations by time, and forgets those older than REVOCATION_MEMORY_MS', async () => {
    const now = Date.now();
    await revocations.announce('key_old', now - REVOCATION_MEMORY_MS - 1);
    expect(await revocations.recent(0)).toEqual(['key_old']);
    await revocations.announce('key_a', now - 2000);
    await revocations.announce('key_b', now);
    expect(await revocations.recent(0)).toEqual(['key_a', 'key_b']); // key_old dropped by the later announcement
    expect(await revocations.recent(now - 1000)).toEqual(['key_b']);
    expect(await revocations.recent(now - 2000)).toEqual(['key_a', 'key_b']); // "at or after"
    expect(await revocations.recent(now + 1)).toEqual([]);
    // Announcing again moves the time, never duplicates the id.
    await revocations.announce('key_a', now + 5);
    expect(await revocations.recent(0)).toEqual(['key_b', 'key_a']);
    const other = new KeyRevocations(redis, `${env.prefix}:other`);
    expect(await other.recent(0)).toEqual([]);
  });

  it('a subscriber hears what was announced before it connected and every announcement after', async () => {
    const heard: string[] = [];
    const sub = revocations.subscribe((id) => heard.push(id));
    try {
      await eventually(async () => heard.includes('key_a') && heard.includes('key_b') && (await subscribers()) === 1, 5000, 20);
      expect(heard).not.toContain('key_old');
      await revocations.announce('key_live');
      await eventually(async () => heard.includes('key_live'), 5000, 20);
      expect(heard.filter((id) => id === 'key_live')).toHaveLength(1);
      // Another prefix's announcements do not reach it.
      await new KeyRevocations(redis, `${env.prefix}:other`).announce('key_foreign');
      await revocations.announce('key_after');
      await eventually(async () => heard.includes('key_after'), 5000, 20);
      expect(heard).not.toContain('key_foreign');
    } finally {
      await sub.close();
    }
  });

  it('after its connection drops it reconnects, resubscribes and reads the remembered revocations again', async () => {
    const heard: string[] = [];
    const sub = revocations.subscribe((id) => heard.push(id));
    try {
      await eventually(async () => heard.includes('key_b') && (await subscribers()) === 1, 5000, 20);
      const [id] = await clientsNamed(revocations.connectionName);
      expect(id).toBeDefined();
      const before = heard.filter((k) => k === 'key_b').length;
      await redis.client('KILL', 'ID', id);
      // The catch-up read on reconnect delivers key_b again; the new connection is subscribed again.
      await eventually(async () => heard.filter((k) => k === 'key_b').length > before && (await subscribers()) === 1, 5000, 20);
      await revocations.announce('key_after_reconnect');
      await eventually(async () => heard.includes('key_after_reconnect'), 5000, 20);
    } finally {
      await sub.close();
    }
  });

  it('close() ends its connection and stops delivery', async () => {
    const heard: string[] = [];
    const sub = revocations.subscribe((id) => heard.push(id));
    await eventually(async () => (await subscribers()) === 1 && (await clientsNamed(revocations.connectionName)).length === 1, 5000, 20);
    await sub.close();
    await eventually(async () => (await subscribers()) === 0 && (await clientsNamed(revocations.connectionName)).length === 0, 5000, 20);
    const n = heard.length;
    await revocations.announce('key_after_close');
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toHaveLength(n);
  });
});
