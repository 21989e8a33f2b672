import { createRng, HEAD_COUNT } from '@app/bandits';
import { type LearningDelta, sumDeltas } from '@app/learning';
import { ITEM_STATUS, PolicyStateStore, type BatchItem } from '@app/store';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../support/harness.js';
import { openStateStore, type StateStoreFixture } from '../support/state-store.js';

// commitBatch-3.lua through PolicyStateStore.apply (read, add, compare-and-set) on a real Redis: every return code
// of its header, the per-item statuses, all-or-nothing, marker expiry, writes in between the read and the commit,
// and exactly-once under concurrent callers.
const TTL = 10_000;
const T = 1_700_000_000_000;
const { applicable, alreadyApplied, claimedByOther, stale, claimedInBatch } = ITEM_STATUS;

const vec = (...v: number[]) => Float64Array.from(v);
const plus = (a: Float64Array, b: Float64Array) => Array.from(a, (v, i) => v + b[i]);
const item = (marker: string, claimer: string, epoch = 1): BatchItem => ({ marker, claimer, epoch });

describe('commitBatch-3.lua: exactly-once, all-or-nothing micro-batches (real Redis)', () => {
  let fx: StateStoreFixture;
  let env: StateStoreFixture['env'];
  let conns: Redis[];
  let redis: Redis;
  let store: PolicyStateStore;
  let n = 0;
  /** A fresh policy initialised at `epoch` with arm "a" = base (seq 1). */
  const fresh = async (base = vec(1, 2, 3, 4), epoch = 1) => {
    const name = `p${++n}`;
    const target = store.policyTarget(name);
    expect(await store.replace(target, epoch, new Map([['a', base]]))).toBe(1);
    return { name, target };
  };
  /**
   * A store on its own connection (its own snapshots, as another process would have) that counts its reads of the
   * state; `afterRead(n)` runs after the n-th read, before its answer is used.
   */
  const watchedStore = (afterRead?: (n: number) => Promise<void>) => {
    const conn = new Redis(REDIS_URL);
    const read = conn.hmgetBuffer.bind(conn);
    const w = { store: new PolicyStateStore(conn, env.prefix, TTL), conn, reads: 0 };
    conn.hmgetBuffer = (async (...a: Parameters<typeof read>) => {
      const r = await read(...a);
      w.reads++;
      await afterRead?.(w.reads);
      return r;
    }) as typeof conn.hmgetBuffer;
    return w;
  };

  beforeAll(async () => {
    fx = await openStateStore('lua_apply', TTL);
    ({ env, conns, redis, store } = fx);
  });
  afterAll(() => fx.close());

  it('answers uninitialised (-1) for a state without epoch, and writes nothing', async () => {
    const target = store.policyTarget('never');
    expect(await store.apply(target, [item('d:1', 'd1')], new Map([['a', vec(1)]]), T)).toEqual({ kind: 'uninitialised' });
    expect(await redis.exists(target.state, target.markers, target.times)).toBe(0);
  });

  it('adds every delta exactly (float64), sets the markers and bumps seq', async () => {
    const long = Float64Array.from({ length: 450 }, (_, i) => i * 0.1 - 7 / 3);
    const { target } = await fresh(vec(0.1, 1e-300, -3.5, 2 ** 53));
    await store.replace(
      target,
      1,
      new Map([
        ['a', vec(0.1, 1e-300, -3.5, 2 ** 53)],
        ['long', long],
      ]),
    );
    const dA = vec(0.2, 1e-300, 0.25, 1);
    const dLong = Float64Array.from({ length: 450 }, (_, i) => 1 / (i + 3));
    const dNew = vec(5, 6);
    const res = await store.apply(
      target,
      [item('d:1', 'd1'), item('e:2', 'e2')],
      new Map([
        ['a', dA],
        ['long', dLong],
        ['fresh', dNew],
      ]),
      T,
    );
    expect(res).toEqual({ kind: 'applied', seq: 3 });
    const st = await store.read(target);
    expect(Array.from(st.arms.get('a')!)).toEqual(plus(vec(0.1, 1e-300, -3.5, 2 ** 53), dA)); // 0.30000000000000004, 2e-300, -3.25, 2**53 + 1 rounded
    expect(Array.from(st.arms.get('long')!)).toEqual(plus(long, dLong));
    expect(Array.from(st.arms.get('fresh')!)).toEqual([5, 6]); // an arm not stored yet takes the delta as is
    expect(st).toMatchObject({ epoch: 1, seq: 3 });
    expect(await store.markerOwner(target, 'd:1')).toBe('d1');
    expect(await store.markerOwner(target, 'e:2')).toBe('e2');
    expect(await redis.zscore(target.times, 'e:2')).toBe(String(T));
    // Each applied call is one seq step.
    expect(await store.apply(target, [item('d:3', 'd3')], new Map([['a', vec(0, 0, 0, 0)]]), T)).toEqual({ kind: 'applied', seq: 4 });
  });

  it('reports each item status (1..5) and applies nothing unless all are applicable', async () => {
    const base = vec(1, 2, 3, 4);
    const { target } = await fresh(base);
    expect(await store.apply(target, [item('q:dec', 'thumb1')], new Map([['a', vec(1, 1, 1, 1)]]), T)).toMatchObject({ kind: 'applied' });
    const before = await store.read(target);
    const batch = [
      item('d:new', 'dnew'), // applicable
      item('q:dec', 'thumb1'), // already applied by this claimer (a retry)
      item('q:dec', 'thumb2'), // claimed by another claimer (a second thumb under "earliest")
      item('d:old', 'dold', 0), // stale epoch
      item('d:new', 'dnew-again'), // claimed by an earlier item of this same call
      item('d:new', 'dnew'), // ... even by the same claimer
    ];
    const res = await store.apply(target, batch, new Map([['a', vec(100, 100, 100, 100)]]), T + 1);
    expect(res).toEqual({ kind: 'conflict', statuses: [applicable, alreadyApplied, claimedByOther, stale, claimedInBatch, claimedInBatch] });
    expect(await store.read(target)).toEqual(before); // not one delta, not one seq step
    expect(await store.markerOwner(target, 'd:new')).toBeNull();
    expect(await store.markerOwner(target, 'd:old')).toBeNull();
    expect(await store.markerOwner(target, 'q:dec')).toBe('thumb1');
    expect(await redis.zcard(target.times)).toBe(1);
    // What the applier does next: send the applicable item alone; the "claimed in batch" one then finds it applied.
    expect(await store.apply(target, [item('d:new', 'dnew')], new Map([['a', vec(100, 100, 100, 100)]]), T + 2)).toEqual({
      kind: 'applied',
      seq: before.seq + 1,
    });
    expect(await store.apply(target, [item('d:new', 'dnew-again')], new Map(), T + 3)).toEqual({ kind: 'conflict', statuses: [claimedByOther] });
    expect(Array.from((await store.read(target)).arms.get('a')!)).toEqual([102, 103, 104, 105]);
  });

  it('a retried batch (same claimers) is all "already applied" and changes nothing', async () => {
    const { target } = await fresh();
    const batch = [item('d:1', 'd1'), item('e:1', 'e1')];
    const deltas = new Map([['a', vec(1, 1, 1, 1)]]);
    expect(await store.apply(target, batch, deltas, T)).toEqual({ kind: 'applied', seq: 2 });
    const after = await store.read(target);
    expect(await store.apply(target, batch, deltas, T + 5)).toEqual({ kind: 'conflict', statuses: [alreadyApplied, alreadyApplied] });
    expect(await store.read(target)).toEqual(after);
  });

  it('checks item epochs against the state epoch (a reset makes older items stale)', async () => {
    const { target } = await fresh(vec(1, 1, 1, 1), 7);
    expect(await store.apply(target, [item('d:a', 'a', 6)], new Map(), T)).toEqual({ kind: 'conflict', statuses: [stale] });
    expect(await store.apply(target, [item('d:a', 'a', 8)], new Map(), T)).toEqual({ kind: 'conflict', statuses: [stale] });
    expect(await store.apply(target, [item('d:a', 'a', 7)], new Map([['a', vec(1, 1, 1, 1)]]), T)).toMatchObject({ kind: 'applied' });
    await store.replace(target, 8, new Map());
    expect(await store.apply(target, [item('d:b', 'b', 7)], new Map(), T)).toEqual({ kind: 'conflict', statuses: [stale] });
    expect(await store.apply(target, [item('d:b', 'b', 8)], new Map(), T)).toMatchObject({ kind: 'applied' });
  });

  it('without the epoch check, applies to a state that has no epoch and ignores item epochs', async () => {
    const target = { ...store.policyTarget('unchecked'), checkEpoch: false };
    expect(await store.apply(target, [item('x:1', 'x1', 123)], new Map([['a', vec(2, 3)]]), T)).toEqual({ kind: 'applied', seq: 1 });
    expect(await store.apply(target, [item('x:2', 'x2', 9)], new Map([['a', vec(2, 3)]]), T)).toEqual({ kind: 'applied', seq: 2 });
    expect(await store.apply(target, [item('x:1', 'x1', 0)], new Map(), T)).toEqual({ kind: 'conflict', statuses: [alreadyApplied] });
    expect(await store.read(target)).toEqual({ epoch: null, seq: 2, arms: new Map([['a', vec(4, 6)]]) });
  });

  it('answers busy (-2) while a rebuild holds the state, also a state being rebuilt after it was lost', async () => {
    const { target } = await fresh();
    await store.lockRebuild(target, 'tok', 60_000);
    const before = await store.read(target);
    expect(await store.apply(target, [item('d:1', 'd1')], new Map([['a', vec(1, 1, 1, 1)]]))).toEqual({ kind: 'busy' });
    expect(await store.read(target)).toEqual(before);
    expect(await store.markerOwner(target, 'd:1')).toBeNull();
    // A lost state: "uninitialised" until a rebuild locks it, then "busy" (the batch waits for that rebuild).
    const flushed = store.policyTarget('flushed-while-locked');
    expect(await store.apply(flushed, [item('d:1', 'd1')], new Map())).toEqual({ kind: 'uninitialised' });
    await store.lockRebuild(flushed, 'tok', 60_000);
    expect(await store.apply(flushed, [item('d:1', 'd1')], new Map())).toEqual({ kind: 'busy' });
  });

  it('forgets markers `ttl` ms after they were set (from both the hash and the time index)', async () => {
    const { target } = await fresh(vec(0, 0, 0, 0));
    const one = new Map([['a', vec(1, 1, 1, 1)]]);
    expect(await store.apply(target, [item('d:1', 'd1')], one, T)).toMatchObject({ kind: 'applied' });
    expect(await store.apply(target, [item('d:1', 'd1'), item('d:1b', 'x')], one, T + TTL - 1)).toEqual({
      kind: 'conflict',
      statuses: [alreadyApplied, applicable],
    });
    expect(await store.apply(target, [item('d:1', 'other')], one, T + TTL - 1)).toEqual({ kind: 'conflict', statuses: [claimedByOther] });
    expect(await store.markerOwner(target, 'd:1')).toBe('d1');
    // Past the ttl the marker is gone: the same item counts again (which is why the ttl must outlive retries).
    expect(await store.apply(target, [item('d:1', 'other')], one, T + TTL + 1)).toMatchObject({ kind: 'applied' });
    expect(await store.markerOwner(target, 'd:1')).toBe('other');
    expect(await redis.zscore(target.times, 'd:1')).toBe(String(T + TTL + 1));
    expect(Array.from((await store.read(target)).arms.get('a')!)).toEqual([2, 2, 2, 2]);
  });

  it('expires at most 500 old markers per call (bounded work), even when the batch conflicts', async () => {
    const { target } = await fresh();
    const many = Array.from({ length: 600 }, (_, i) => item(`d:${i}`, `c${i}`));
    expect(await store.apply(target, many, new Map(), T)).toMatchObject({ kind: 'applied' });
    expect(await redis.hlen(target.markers)).toBe(600);
    const later = T + TTL + 1;
    expect(await store.apply(target, [item('d:stale', 'x', 0)], new Map(), later)).toEqual({ kind: 'conflict', statuses: [stale] });
    expect([await redis.hlen(target.markers), await redis.zcard(target.times)]).toEqual([100, 100]);
    expect(await store.apply(target, [item('d:fresh', 'y')], new Map(), later)).toMatchObject({ kind: 'applied' });
    expect([await redis.hlen(target.markers), await redis.zcard(target.times)]).toEqual([1, 1]);
    expect(await store.markerOwner(target, 'd:fresh')).toBe('y');
  });

  it.each([5, 64])('stores arm statistics (d = %i) exactly as their float64 sums, batch after batch', async (d) => {
    const rng = createRng(d);
    const x = () => Array.from({ length: d }, () => rng.normal());
    const batch = (): LearningDelta[] => [
      { kind: 'decision', arm: 'a', x: x() },
      { kind: 'decision', arm: 'a', x: x() },
      { kind: 'observation', arm: 'a', x: x(), head: 0, value: rng.next() },
      { kind: 'observation', arm: 'b', x: x(), head: 1, value: 100 * rng.next() },
      { kind: 'correction', arm: 'b', x: x(), head: 1, value: -3 * rng.next() },
    ];
    const { target } = await fresh(new Float64Array(0));
    const want = new Map<string, Float64Array>();
    for (let t = 0; t < 3; t++) {
      const deltas = sumDeltas(d, batch());
      for (const [arm, v] of deltas) {
        const cur = want.get(arm);
        want.set(arm, cur ? cur.map((c, i) => c + v[i]) : v.slice());
      }
      expect(await store.apply(target, [item(`d:${t}`, `c${t}`)], deltas, T)).toMatchObject({ kind: 'applied' });
    }
    const got = await store.read(target);
    expect(got.arms.get('a')!.length).toBe(1 + 2 * HEAD_COUNT + 2 * d * d + HEAD_COUNT * d);
    for (const arm of ['a', 'b']) expect(Buffer.from(got.arms.get(arm)!.buffer).equals(Buffer.from(want.get(arm)!.buffer))).toBe(true);
  });

  it('a write between the read and the commit is not lost: the commit is refused and the apply reads and adds again', async () => {
    const { target } = await fresh(vec(0, 0, 0, 0));
    const other = new PolicyStateStore(conns[1], env.prefix, TTL);
    // The first read of `raced` is followed, before its commit, by another caller's apply.
    const raced = watchedStore(async (n) => {
      if (n === 1) expect(await other.apply(target, [item('d:other', 'o')], new Map([['a', vec(10, 10, 10, 10)]]), T)).toMatchObject({ kind: 'applied' });
    });
    try {
      expect(await raced.store.apply(target, [item('d:mine', 'm')], new Map([['a', vec(1, 2, 3, 4)]]), T)).toEqual({ kind: 'applied', seq: 3 });
      expect(raced.reads).toBe(2);
      expect(await store.read(target)).toEqual({ epoch: 1, seq: 3, arms: new Map([['a', vec(11, 12, 13, 14)]]) });
    } finally {
      await raced.conn.quit();
    }
  });

  it("a writer adds to its own last write without reading it back, and reads again once another writer's commit is in", async () => {
    const { target } = await fresh(vec(0, 0, 0, 0));
    const w = watchedStore();
    const mine = w.store;
    const other = new PolicyStateStore(conns[2], env.prefix, TTL);
    const one = (id: string, s: PolicyStateStore, v: number) => s.apply(target, [item(`d:${id}`, id)], new Map([['a', vec(v, v, v, v)]]), T);
    try {
      for (let i = 0; i < 3; i++) expect(await one(`m${i}`, mine, 1)).toMatchObject({ kind: 'applied' });
      expect(w.reads).toBe(1);
      // A refused batch (an item applied before) writes nothing, and what the writer knows still holds.
      expect(await mine.apply(target, [item('d:m0', 'm0'), item('d:m9', 'm9')], new Map([['a', vec(50, 50, 50, 50)]]), T)).toEqual({
        kind: 'conflict',
        statuses: [alreadyApplied, applicable],
      });
      expect(await one('m9', mine, 1)).toMatchObject({ kind: 'applied' });
      expect(w.reads).toBe(1);
      // A new arm is read alone (the snapshot still holds at that version).
      expect(await mine.apply(target, [item('d:b', 'b')], new Map([['b', vec(1, 1)]]), T)).toMatchObject({ kind: 'applied' });
      expect(w.reads).toBe(2);
      expect(await one('o1', other, 100)).toMatchObject({ kind: 'applied' });
      expect(await one('m3', mine, 1)).toMatchObject({ kind: 'applied' }); // refused once, read, added again
      expect(w.reads).toBe(3);
      expect((await store.read(target)).arms).toEqual(
        new Map([
          ['a', vec(105, 105, 105, 105)],
          ['b', vec(1, 1)],
        ]),
      );
    } finally {
      await w.conn.quit();
    }
  });

  it('counts once per state when one process applies in parallel: its commits queue, and only the first reads', async () => {
    const { target } = await fresh(vec(0, 0, 0, 0));
    const w = watchedStore();
    const mine = w.store;
    try {
      const all = await Promise.all(Array.from({ length: 6 }, (_, i) => mine.apply(target, [item(`d:p${i}`, `p${i}`)], new Map([['a', vec(1, 1, 1, 1)]]), T)));
      expect(all.map((r) => r.kind)).toEqual(Array(6).fill('applied'));
      expect(w.reads).toBe(1);
      expect((await store.read(target)).arms.get('a')).toEqual(vec(6, 6, 6, 6));
    } finally {
      await w.conn.quit();
    }
  });

  it('a kept snapshot does not survive a delete and re-create by another process, and a resent commit counts once', async () => {
    const { name, target } = await fresh(vec(0, 0, 0, 0));
    const conn = new Redis(REDIS_URL);
    const mine = new PolicyStateStore(conn, env.prefix, TTL);
    try {
      expect(await mine.apply(target, [item('d:k1', 'k1')], new Map([['a', vec(1, 1, 1, 1)]]), T)).toMatchObject({ kind: 'applied', seq: 2 });
      await store.dropPolicy(name);
      expect(await store.replace(target, 1, new Map([['a', vec(7, 7, 7, 7)]]))).toBe(1);
      expect(await store.apply(target, [item('d:k2', 'k2')], new Map([['a', vec(0, 0, 0, 0)]]), T)).toMatchObject({ kind: 'applied', seq: 2 });
      // seq is back at what `mine` last wrote; its rev is not, so its kept values (1, 1, 1, 1) are not added to.
      expect(await mine.apply(target, [item('d:k3', 'k3')], new Map([['a', vec(1, 1, 1, 1)]]), T)).toMatchObject({ kind: 'applied', seq: 3 });
      expect((await store.read(target)).arms.get('a')).toEqual(vec(8, 8, 8, 8));
      // A commit executed but whose reply was lost is sent again (as a client resends on reconnect): the second
      // finds its markers set by the same claimer, writes nothing, and the applier counts the batch as applied.
      const commit = (conn as unknown as Record<string, (...a: unknown[]) => Promise<number[]>>).commitBatch.bind(conn);
      (conn as unknown as Record<string, unknown>).commitBatch = async (...a: unknown[]) => (await commit(...a), commit(...a));
      expect(await mine.apply(target, [item('d:k4', 'k4')], new Map([['a', vec(1, 1, 1, 1)]]), T)).toEqual({ kind: 'conflict', statuses: [alreadyApplied] });
      expect((await store.read(target)).arms.get('a')).toEqual(vec(9, 9, 9, 9));
    } finally {
      await conn.quit();
    }
  });

  it('refuses a commit prepared before a delete and re-create, even when seq has come back to the same number', async () => {
    const { name, target } = await fresh(vec(5, 5, 5, 5));
    const [seq, rev] = await redis.hmget(target.state, 'seq', 'rev');
    expect([seq, typeof rev]).toEqual(['1', 'string']);
    await store.dropPolicy(name);
    expect(await store.replace(target, 1, new Map([['a', vec(7, 7, 7, 7)]]))).toBe(1); // seq 1 again
    const commit = (redis as unknown as Record<string, (...a: unknown[]) => Promise<number[]>>).commitBatch.bind(redis);
    const stale = [T, TTL, 1, '1', seq, rev, 'new-rev', 'd:1', 'd1', '1', 1, 'arm:a', Buffer.from(vec(6, 6, 6, 6).buffer)];
    expect(await commit(target.state, target.markers, target.times, ...stale)).toEqual([-3]);
    expect(await store.read(target)).toEqual({ epoch: 1, seq: 1, arms: new Map([['a', vec(7, 7, 7, 7)]]) });
    expect(await store.markerOwner(target, 'd:1')).toBeNull();
  });

  it('under 64 concurrent callers (8 connections) one claim per marker wins, and no update is lost', async () => {
    const stores = conns.map((c) => new PolicyStateStore(c, env.prefix, TTL));
    const { target } = await fresh(vec(0, 0, 0, 0));
    const one = new Map([['a', vec(1, 1, 1, 1)]]);
    // The same quality marker claimed by 64 different thumbs at once: exactly one is learnt.
    const race = await Promise.all(Array.from({ length: 64 }, (_, i) => stores[i % 8].apply(target, [item('q:dec', `thumb${i}`)], one)));
    const winners = race.flatMap((r, i) => (r.kind === 'applied' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of race) if (r.kind !== 'applied') expect(r).toEqual({ kind: 'conflict', statuses: [claimedByOther] });
    expect(await store.markerOwner(target, 'q:dec')).toBe(`thumb${winners[0]}`);
    // 100 distinct items at once on the same arm: every one counted, every seq step distinct.
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => stores[i % 8].apply(target, [item(`d:${i}`, `d${i}`)], one)));
    const seqs = all.map((r) => (r.kind === 'applied' ? r.seq : -1)).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 3));
    expect(await store.read(target)).toEqual({ epoch: 1, seq: 102, arms: new Map([['a', vec(101, 101, 101, 101)]]) });
  });
});
