import { jest } from '@jest/globals';
import { type DecisionRecord } from '@app/contracts';
import { DecisionHotStore, MAX_KEYS_PER_CALL } from '@app/store';
import { Redis } from 'ioredis';
import { freshEnvironment, REDIS_URL } from '../support/harness.js';

// DecisionHotStore on a real Redis: hot decision copies with a TTL, the API's "seen" markers of event ids
// (pending until confirmed, a stale pending one taken over), and the per-decision event budget.
const rec = (id: string, extra: Partial<DecisionRecord> = {}): DecisionRecord => ({
  id,
  policy: 'p',
  epoch: 2,
  policyVersion: 5,
  arm: 'm-b',
  armIndex: 1,
  propensity: 0.1 + 0.2,
  x: [0.1, -1e-300, 1 / 3, 12345.678],
  estimates: [
    { arm: 'm-a', score: 0.25 },
    { arm: 'm-b', score: 0.75 },
  ],
  owner: 'tenant',
  mode: 'single',
  createdAt: 1_700_000_000_123,
  ...extra,
});

/** The age past which a pending mark is taken over (ms). */
const STALE = 10_000;

describe('DecisionHotStore: hot decisions, seen markers, event budgets (real Redis)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let redis: Redis;
  let hot: DecisionHotStore;

  beforeAll(async () => {
    env = await freshEnvironment('store_decisions');
    redis = new Redis(REDIS_URL);
    hot = new DecisionHotStore(redis, env.prefix);
  });
  afterAll(async () => {
    await redis.quit();
    await env.drop();
  });

  it('round-trips decisions, in request order, with null for missing ones; each copy expires after its ttl (s)', async () => {
    const duel = rec('d2', { mode: 'duel', arms: ['m-b', 'm-a'] });
    await hot.put(rec('d1'), 600);
    await hot.put(duel, 30);
    expect(await hot.getMany(['missing', 'd2', 'd1', 'd2'])).toEqual([null, duel, rec('d1'), duel]);
    expect(await hot.getMany([])).toEqual([]);
    const ttl1 = await redis.ttl(hot.keys.decision('d1'));
    const ttl2 = await redis.ttl(hot.keys.decision('d2'));
    expect(ttl1).toBeGreaterThan(590);
    expect(ttl1).toBeLessThanOrEqual(600);
    expect(ttl2).toBeGreaterThan(20);
    expect(ttl2).toBeLessThanOrEqual(30);
    // A second put replaces the copy and its ttl.
    await hot.put(rec('d1', { arm: 'm-a', armIndex: 0 }), 60);
    expect((await hot.getMany(['d1']))[0]).toMatchObject({ arm: 'm-a', armIndex: 0 });
    expect(await redis.ttl(hot.keys.decision('d1'))).toBeLessThanOrEqual(60);
    await hot.put(rec('short'), 1);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await hot.getMany(['short'])).toEqual([null]);
  });

  it('reads heads without contexts, from copies it wrote and from copies with x elsewhere (an earlier version)', async () => {
    const { x: _x, ...head } = rec('h1');
    await hot.put(rec('h1'), 60);
    await redis.set(hot.keys.decision('h-old'), JSON.stringify(rec('h-old')), 'EX', 60); // x in the middle
    const [mine, old, none] = await hot.getHeads(['h1', 'h-old', 'h-missing']);
    expect(mine).toEqual(head);
    expect(old).toEqual({ ...head, id: 'h-old' });
    expect(none).toBeNull();
    expect(await hot.getMany(['h-old'])).toEqual([rec('h-old')]);
  });

  it('marks event ids pending until confirmed: only a confirmed id answers "duplicate"', async () => {
    expect(await hot.markSeen(['e1', 'e2'], 300, STALE)).toEqual(['new', 'new']);
    // e1 is still pending (its request is under way, or failed a moment ago): neither seen nor free.
    expect(await hot.markSeen(['e1'], 300, STALE)).toEqual(['busy']);
    await hot.confirmSeen(['e1']);
    expect(await hot.markSeen(['e1', 'e2', 'e3'], 300, STALE)).toEqual(['queued', 'busy', 'new']);
    // The marks expire: set with the ttl, kept (not made permanent) by the confirmation.
    const ttl = await redis.ttl(hot.keys.eventSeen('e1'));
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
    // A second sighting does not extend a mark's life.
    await redis.expire(hot.keys.eventSeen('e1'), 50);
    await hot.markSeen(['e1'], 300, STALE);
    expect(await redis.ttl(hot.keys.eventSeen('e1'))).toBeLessThanOrEqual(50);
    await redis.pexpire(hot.keys.eventSeen('e2'), 300_000 - STALE + 2000);
    expect(await hot.markSeen(['e2'], 300, STALE)).toEqual(['busy']);
    expect(await redis.pttl(hot.keys.eventSeen('e2'))).toBeLessThanOrEqual(300_000 - STALE + 2000);
    // Confirming an id that was never marked (or has expired) does not create a mark.
    await hot.confirmSeen(['ghost']);
    expect(await redis.exists(hot.keys.eventSeen('ghost'))).toBe(0);
    expect(await hot.markSeen(['ghost'], 300, STALE)).toEqual(['new']);
    // unmarkSeen gives pending marks back (a request that failed after marking); a confirmed one stays.
    await hot.unmarkSeen(['e1', 'ghost']);
    expect(await hot.markSeen(['e1', 'ghost'], 300, STALE)).toEqual(['queued', 'new']);
    await hot.confirmSeen([]);
    await hot.unmarkSeen([]);
  });

  it('a pending mark older than the stale age is taken over by exactly one of its concurrent senders', async () => {
    await hot.markSeen(['s1'], 300, STALE);
    // As if set 11 s ago by a request that failed without giving it back.
    await redis.pexpire(hot.keys.eventSeen('s1'), 300_000 - STALE - 1000);
    const conns = Array.from({ length: 4 }, () => new Redis(REDIS_URL));
    try {
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => new DecisionHotStore(conns[i % 4], env.prefix).markSeen(['s1'], 300, STALE)));
      expect(answers.flat().filter((a) => a === 'new')).toHaveLength(1);
      expect(answers.flat().filter((a) => a === 'busy')).toHaveLength(39);
    } finally {
      await Promise.all(conns.map((c) => c.quit()));
    }
    // Taken over: pending again, from now (its whole ttl), and given back or confirmed like any other.
    expect(await redis.get(hot.keys.eventSeen('s1'))).toBe('p');
    expect(await redis.ttl(hot.keys.eventSeen('s1'))).toBeGreaterThan(290);
    await hot.unmarkSeen(['s1']);
    expect(await hot.markSeen(['s1'], 300, STALE)).toEqual(['new']);
    // A mark set under a longer ttl (the setting lowered since) has an unknown age: taken over, not busy for days.
    await redis.pexpire(hot.keys.eventSeen('s1'), 7 * 86_400_000);
    expect(await hot.markSeen(['s1'], 300, STALE)).toEqual(['new']);
    expect(await redis.ttl(hot.keys.eventSeen('s1'))).toBeLessThanOrEqual(300);
  });

  it('abandoned pending marks go to the next sender at once; confirmed ones stay', async () => {
    await hot.markSeen(['a1', 'a2'], 300, STALE);
    await hot.confirmSeen(['a2']);
    await hot.abandonSeen(['a1', 'a2', 'never-marked'], 300, STALE);
    expect(await redis.pttl(hot.keys.eventSeen('a1'))).toBeLessThanOrEqual(300_000 - STALE);
    expect(await redis.exists(hot.keys.eventSeen('never-marked'))).toBe(0);
    expect(await hot.markSeen(['a1', 'a2'], 300, STALE)).toEqual(['new', 'queued']);
    expect(await redis.ttl(hot.keys.eventSeen('a2'))).toBeGreaterThan(290);
  });

  it('concurrent senders of one confirmed id all hear "duplicate"', async () => {
    await hot.markSeen(['c1'], 300, STALE);
    await hot.confirmSeen(['c1']);
    const conns = Array.from({ length: 4 }, () => new Redis(REDIS_URL));
    try {
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => new DecisionHotStore(conns[i % 4], env.prefix).markSeen(['c1'], 300, STALE)));
      expect(answers.flat().every((a) => a === 'queued')).toBe(true);
    } finally {
      await Promise.all(conns.map((c) => c.quit()));
    }
  });

  it('counts events per decision up to the limit, leaves the excess uncounted, and takes counts back', async () => {
    const limit = 10;
    expect(
      await hot.countEvents(
        new Map([
          ['x', 4],
          ['y', 12],
        ]),
        limit,
        120,
      ),
    ).toEqual(
      new Map([
        ['x', 4],
        ['y', 10],
      ]),
    );
    expect(await hot.countEvents(new Map([['x', 4]]), limit, 120)).toEqual(new Map([['x', 4]]));
    expect(await hot.countEvents(new Map([['x', 4]]), limit, 120)).toEqual(new Map([['x', 2]]));
    expect(
      await hot.countEvents(
        new Map([
          ['x', 1],
          ['y', 1],
        ]),
        limit,
        120,
      ),
    ).toEqual(
      new Map([
        ['x', 0],
        ['y', 0],
      ]),
    );
    expect(await redis.get(hot.keys.decisionEventCount('x'))).toBe('10'); // the refused ones were never counted
    const ttl = await redis.ttl(hot.keys.decisionEventCount('x'));
    expect(ttl).toBeGreaterThan(110);
    expect(ttl).toBeLessThanOrEqual(120);
    await hot.uncountEvents(
      new Map([
        ['x', 3],
        ['y', 0],
      ]),
    );
    expect(await hot.countEvents(new Map([['x', 5]]), limit, 120)).toEqual(new Map([['x', 3]]));
    expect(await hot.countEvents(new Map(), limit, 120)).toEqual(new Map());
  });

  it('answers batches larger than one call takes (several calls sent together), each key on its own', async () => {
    const n = MAX_KEYS_PER_CALL * 2 + 17;
    const ids = Array.from({ length: n }, (_, i) => `big-${i}`);
    await hot.put(rec('big-5'), 60);
    await hot.put(rec(`big-${n - 1}`), 60);
    // One command per MAX_KEYS_PER_CALL keys, not one per key.
    const mget = jest.spyOn(redis, 'mget');
    const evalsha = jest.spyOn(redis, 'evalsha');
    const found = await hot.getMany(ids);
    expect(found.flatMap((r, i) => (r ? [i] : []))).toEqual([5, n - 1]);
    await hot.markSeen(ids, 300, STALE);
    expect([mget.mock.calls.length, evalsha.mock.calls.length]).toEqual([3, 3]);
    mget.mockRestore();
    evalsha.mockRestore();
    await redis.del(...ids.map((id) => hot.keys.eventSeen(id)));
    expect(await hot.markSeen(ids.slice(0, 3), 300, STALE)).toEqual(['new', 'new', 'new']);
    await hot.confirmSeen(ids.slice(0, 2));
    const marks = await hot.markSeen(ids, 300, STALE);
    expect(marks.slice(0, 4)).toEqual(['queued', 'queued', 'busy', 'new']);
    expect(marks.filter((m) => m === 'new')).toHaveLength(n - 3);
    await redis.script('FLUSH'); // a node that lost the scripts (restarted, failed over) is sent them again
    await hot.confirmSeen(ids);
    await hot.unmarkSeen(ids);
    expect(new Set(await hot.markSeen(ids, 300, STALE))).toEqual(new Set(['queued']));
    const wanted = new Map(ids.map((id, i) => [id, (i % 3) + 1]));
    const fits = await hot.countEvents(wanted, 2, 120);
    expect([...fits.values()].slice(0, 4)).toEqual([1, 2, 2, 1]);
    expect(await redis.get(hot.keys.decisionEventCount(ids[n - 1]))).toBe(String(Math.min(2, ((n - 1) % 3) + 1)));
  });
});
