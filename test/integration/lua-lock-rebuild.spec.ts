import { PolicyStateStore, type BatchItem } from '@app/store';
import { Redis } from 'ioredis';
import { openStateStore, type StateStoreFixture } from '../support/state-store.js';

// lockRebuild-1.lua through PolicyStateStore.lockRebuild on a real Redis: what it returns, how long it holds
// commitBatch off, and that only the lock holder's token can replace the state (replaceState-3.lua); a held lock is not
// taken over.
const vec = (...v: number[]) => Float64Array.from(v);
const item = (marker: string, claimer: string, epoch = 1): BatchItem => ({ marker, claimer, epoch });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('lockRebuild-1.lua: the rebuild lock of a policy state (real Redis)', () => {
  let fx: StateStoreFixture;
  let env: StateStoreFixture['env'];
  let conns: Redis[];
  let redis: Redis;
  let store: PolicyStateStore;
  let n = 0;
  let last = '';
  const fresh = async () => {
    last = `p${++n}`;
    const target = store.policyTarget(last);
    expect(await store.replace(target, 1, new Map([['a', vec(1, 2)]]))).toBe(1);
    return target;
  };

  beforeAll(async () => {
    fx = await openStateStore('lua_lock');
    ({ env, conns, redis, store } = fx);
  });
  afterAll(() => fx.close());

  it('returns the seq at lock time (0 when there is none) and leaves epoch, seq and arms alone', async () => {
    expect(await store.lockRebuild(store.policyTarget('empty'), 't0')).toBe(0);
    const target = await fresh();
    expect(await store.apply(target, [item('d:1', 'd1')], new Map([['a', vec(1, 1)]]), Date.now() - 1)).toEqual({ kind: 'applied', seq: 2 });
    const before = await store.read(target);
    expect(await store.lockRebuild(target, 't1')).toBe(2);
    expect(await store.read(target)).toEqual(before);
    expect(await store.versions([last])).toEqual([{ seq: 2, epoch: 1 }]); // replicas see no change to recompile
  });

  it('keeps commitBatch busy for its duration, then lets it through (a crashed rebuild does not block forever)', async () => {
    const target = await fresh();
    const one = new Map([['a', vec(1, 1)]]);
    const t = Date.now();
    await store.lockRebuild(target, 'tok', 60_000);
    expect(await store.apply(target, [item('d:1', 'd1')], one, t)).toEqual({ kind: 'busy' });
    expect(await store.apply(target, [item('d:1', 'd1')], one, t + 59_000)).toEqual({ kind: 'busy' });
    expect(await store.apply(target, [item('d:1', 'd1')], one, Date.now() + 60_001)).toEqual({ kind: 'applied', seq: 2 });
    // In real time, with a short lock.
    const target2 = await fresh();
    await store.lockRebuild(target2, 'tok', 400);
    expect(await store.apply(target2, [item('d:1', 'd1')], one)).toEqual({ kind: 'busy' });
    await sleep(450);
    expect(await store.apply(target2, [item('d:1', 'd1')], one)).toEqual({ kind: 'applied', seq: 2 });
  });

  it('a lock another rebuild holds is not taken over; its holder extends it; once it expires another may take it', async () => {
    const target = await fresh();
    expect(await store.lockRebuild(target, 'first', 300)).toBe(1);
    expect(await store.lockRebuild(target, 'second')).toBe(-1);
    expect(await redis.hget(target.state, 'rebuildToken')).toBe('first');
    const before = await store.read(target);
    expect(await store.replace(target, 1, new Map([['a', vec(9, 9)]]), [{ marker: 'd:x', claimer: 'x' }], 'second')).toBeNull();
    expect(await store.read(target)).toEqual(before);
    expect(await store.markerOwner(target, 'd:x')).toBeNull();
    // The holder extends its lock (a long fold); the other still cannot take it.
    expect(await store.lockRebuild(target, 'first', 60_000)).toBe(1);
    await sleep(350);
    expect(await store.lockRebuild(target, 'second')).toBe(-1);
    expect(await store.apply(target, [item('d:1', 'd1')], new Map())).toEqual({ kind: 'busy' });
    expect(await store.replace(target, 1, new Map([['a', vec(7, 7)]]), [], 'first')).toBe(before.seq + 1);
    expect(await store.apply(target, [item('d:1', 'd1')], new Map([['a', vec(1, 1)]]))).toEqual({ kind: 'applied', seq: before.seq + 2 });
    expect(Array.from((await store.read(target)).arms.get('a')!)).toEqual([8, 8]);
    // The lock is gone with the replacement: the same token cannot replace a second time; another may lock now.
    expect(await store.replace(target, 1, new Map(), [], 'first')).toBeNull();
    expect(await store.lockRebuild(target, 'second', 50)).toBe(before.seq + 2);
    await sleep(100);
    // An expired lock is taken by the next rebuild.
    expect(await store.lockRebuild(target, 'third')).toBe(before.seq + 2);
  });

  it('a state being rebuilt after it was lost answers "busy", not "uninitialised" (a batch waits instead of rebuilding too)', async () => {
    const target = await fresh();
    await redis.del(target.state);
    expect(await store.apply(target, [item('d:1', 'd1')], new Map([['a', vec(1, 1)]]))).toEqual({ kind: 'uninitialised' });
    expect(await store.lockRebuild(target, 'repair')).toBe(0);
    expect(await store.apply(target, [item('d:1', 'd1')], new Map([['a', vec(1, 1)]]))).toEqual({ kind: 'busy' });
    expect(await store.replace(target, 1, new Map([['a', vec(2, 2)]]), [], 'repair')).toBe(1);
    expect(await store.apply(target, [item('d:1', 'd1')], new Map([['a', vec(1, 1)]]))).toEqual({ kind: 'applied', seq: 2 });
  });

  it('of 16 rebuilds locking and replacing concurrently, exactly one (the one that got the lock) replaces', async () => {
    const stores = conns.map((c) => new PolicyStateStore(c, env.prefix));
    const target = await fresh();
    const tokens = Array.from({ length: 16 }, (_, i) => `rebuild-${i}`);
    const locked = await Promise.all(tokens.map((tok, i) => stores[i % 8].lockRebuild(target, tok)));
    expect(locked.filter((s) => s >= 0)).toHaveLength(1);
    const holder = await redis.hget(target.state, 'rebuildToken');
    expect(tokens[locked.findIndex((s) => s >= 0)]).toBe(holder);
    const res = await Promise.all(tokens.map((tok, i) => stores[i % 8].replace(target, 1, new Map([['a', vec(i, i)]]), [], tok)));
    const won = res.flatMap((r, i) => (r === null ? [] : [i]));
    expect(won).toHaveLength(1);
    expect(tokens[won[0]]).toBe(holder);
    expect(res[won[0]]).toBe(2);
    expect(Array.from((await store.read(target)).arms.get('a')!)).toEqual([won[0], won[0]]);
  });

  it('a reset (replace without token) during a rebuild releases the lock, and the rebuild then cannot replace', async () => {
    const target = await fresh();
    await store.lockRebuild(target, 'rb');
    expect(await store.replace(target, 2, new Map())).toBe(2);
    expect(await store.apply(target, [item('d:1', 'd1', 2)], new Map([['a', vec(1, 1)]]))).toEqual({ kind: 'applied', seq: 3 });
    expect(await store.replace(target, 1, new Map([['a', vec(5, 5)]]), [], 'rb')).toBeNull();
    expect(await store.read(target)).toEqual({ epoch: 2, seq: 3, arms: new Map([['a', vec(1, 1)]]) });
  });

  // Once a lock expires (a rebuild slower than its lock), commitBatch applies new items again; a late replacement
  // would drop their deltas while their markers stay (a lost update), so an expired lock's token is refused like a
  // taken-over one.
  it('a rebuild whose lock has expired can no longer replace the state (else items applied since are lost)', async () => {
    const target = await fresh();
    await store.lockRebuild(target, 'slow-rebuild', 50);
    await sleep(100); // the lock expires; the rebuild is still folding
    expect(await store.apply(target, [item('d:late', 'late')], new Map([['a', vec(100, 100)]]))).toEqual({ kind: 'applied', seq: 2 });
    const seq = await store.replace(target, 1, new Map([['a', vec(1, 2)]]), [], 'slow-rebuild'); // its fold missed d:late
    const after = await store.read(target);
    expect(seq).toBeNull();
    expect(Array.from(after.arms.get('a')!)).toEqual([101, 102]);
  });
});
