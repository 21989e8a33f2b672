import { ITEM_STATUS, PolicyStateStore, type BatchItem } from '@app/store';
import { Redis } from 'ioredis';
import { openStateStore, type StateStoreFixture } from '../support/state-store.js';

// replaceState-3.lua through PolicyStateStore.replace on a real Redis: the whole state is swapped at once, seq
// keeps increasing, folded items' markers are set, and only the rebuild holding the lock (by token) may replace.
const TTL = 60_000;
const vec = (...v: number[]) => Float64Array.from(v);
const item = (marker: string, claimer: string, epoch = 1): BatchItem => ({ marker, claimer, epoch });

describe('replaceState-3.lua: create, reset and rebuild of a policy state (real Redis)', () => {
  let fx: StateStoreFixture;
  let env: StateStoreFixture['env'];
  let conns: Redis[];
  let redis: Redis;
  let store: PolicyStateStore;
  let n = 0;
  const name = () => `p${++n}`;

  beforeAll(async () => {
    fx = await openStateStore('lua_replace', TTL);
    ({ env, conns, redis, store } = fx);
  });
  afterAll(() => fx.close());

  it('creates a state, then replaces all of it (old arms gone) with seq still increasing', async () => {
    const p = name();
    const target = store.policyTarget(p);
    expect(await store.versions([p, 'nope'])).toEqual([
      { seq: 0, epoch: null },
      { seq: 0, epoch: null },
    ]);
    expect(
      await store.replace(
        target,
        3,
        new Map([
          ['a', vec(1, 2)],
          ['b', vec(3, 4)],
        ]),
      ),
    ).toBe(1);
    expect(await store.read(target)).toEqual({
      epoch: 3,
      seq: 1,
      arms: new Map([
        ['a', vec(1, 2)],
        ['b', vec(3, 4)],
      ]),
    });
    expect(await store.apply(target, [item('d:1', 'd1', 3)], new Map([['a', vec(1, 1)]]))).toEqual({ kind: 'applied', seq: 2 });
    // A reset: new epoch, no arms. seq goes on from 2 (replicas compare it to their copy).
    expect(await store.replace(target, 4, new Map())).toBe(3);
    expect(await store.read(target)).toEqual({ epoch: 4, seq: 3, arms: new Map() });
    expect(await store.replace(target, 4, new Map([['c', vec(0.5)]]))).toBe(4);
    expect(await store.read(target)).toEqual({ epoch: 4, seq: 4, arms: new Map([['c', vec(0.5)]]) });
    expect(await store.versions([p])).toEqual([{ seq: 4, epoch: 4 }]);
    expect(await store.versions([])).toEqual([]);
    // Nothing but epoch, seq, rev and the arms is left in the hash (no stale lock fields).
    expect((await redis.hkeys(target.state)).sort()).toEqual(['arm:c', 'epoch', 'rev', 'seq']);
  });

  it('sets the markers of every folded item, so a batch still in flight does not apply them again', async () => {
    const target = store.policyTarget(name());
    await store.replace(target, 1, new Map());
    // A thumb was applied before the rebuild; the rebuild keeps the one it folded (an earlier thumb) instead.
    expect(await store.apply(target, [item('q:dec', 'thumb-late')], new Map())).toMatchObject({ kind: 'applied' });
    const t = Date.now();
    const seq = await store.replace(target, 1, new Map([['a', vec(10, 10)]]), [
      { marker: 'd:1', claimer: 'd1' },
      { marker: 'q:dec', claimer: 'thumb-early' },
    ]);
    expect(seq).toBe(3);
    expect(await store.markerOwner(target, 'd:1')).toBe('d1');
    expect(await store.markerOwner(target, 'q:dec')).toBe('thumb-early');
    const at = Number(await redis.zscore(target.times, 'd:1'));
    expect(at).toBeGreaterThanOrEqual(t - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    // In-flight batches: the folded decision is already applied; the late thumb is now another's claim.
    expect(await store.apply(target, [item('d:1', 'd1'), item('q:dec', 'thumb-late'), item('d:2', 'd2')], new Map([['a', vec(1, 1)]]))).toEqual({
      kind: 'conflict',
      statuses: [ITEM_STATUS.alreadyApplied, ITEM_STATUS.claimedByOther, ITEM_STATUS.applicable],
    });
    expect(Array.from((await store.read(target)).arms.get('a')!)).toEqual([10, 10]);
    // Those markers expire like applied ones, `ttl` after the replacement.
    expect(await store.apply(target, [item('d:1', 'd1')], new Map(), Date.now() + TTL + 1000)).toMatchObject({ kind: 'applied' });
  });

  it('with a token, replaces only while that token holds the lock; a refused call changes nothing', async () => {
    const target = store.policyTarget(name());
    await store.replace(target, 1, new Map([['a', vec(1)]]));
    const before = await store.read(target);
    // No lock at all: a token is refused.
    expect(await store.replace(target, 1, new Map([['a', vec(2)]]), [{ marker: 'd:x', claimer: 'x' }], 'nobody')).toBeNull();
    await store.lockRebuild(target, 'mine');
    expect(await store.replace(target, 9, new Map([['a', vec(2)]]), [{ marker: 'd:x', claimer: 'x' }], 'not-mine')).toBeNull();
    expect(await store.read(target)).toEqual(before);
    expect(await store.markerOwner(target, 'd:x')).toBeNull();
    expect(await redis.zcard(target.times)).toBe(0);
    expect(await store.replace(target, 1, new Map([['a', vec(2)]]), [{ marker: 'd:x', claimer: 'x' }], 'mine')).toBe(2);
    expect(await store.read(target)).toEqual({ epoch: 1, seq: 2, arms: new Map([['a', vec(2)]]) });
    expect(await store.markerOwner(target, 'd:x')).toBe('x');
    expect(await redis.hexists(target.state, 'rebuilding')).toBe(0);
  });

  it('takes a fold of 150,000 markers in one call (its arguments never spread), only with the lock', async () => {
    // 300,000 arguments: spread into a call, more than a JavaScript call may carry (about 125,000 here).
    const target = store.policyTarget(name());
    await store.replace(target, 1, new Map([['a', vec(1)]]));
    const markers = Array.from({ length: 150_000 }, (_, i) => ({ marker: `e:ev${i}`, claimer: `ev${i}` }));
    // Refused by token: not one marker is written.
    await store.lockRebuild(target, 'mine');
    expect(await store.replace(target, 1, new Map([['a', vec(5)]]), markers, 'not-mine')).toBeNull();
    expect([await redis.hlen(target.markers), await redis.zcard(target.times)]).toEqual([0, 0]);
    expect(await store.replace(target, 1, new Map([['a', vec(5)]]), markers, 'mine')).toBe(2);
    expect(await store.read(target)).toEqual({ epoch: 1, seq: 2, arms: new Map([['a', vec(5)]]) });
    expect([await redis.hlen(target.markers), await redis.zcard(target.times)]).toEqual([150_000, 150_000]);
    expect([await store.markerOwner(target, 'e:ev0'), await store.markerOwner(target, 'e:ev149999')]).toEqual(['ev0', 'ev149999']);
    // A batch still in flight finds its item applied.
    expect(await store.apply(target, [item('e:ev7', 'ev7')], new Map([['a', vec(1)]]))).toEqual({ kind: 'conflict', statuses: [ITEM_STATUS.alreadyApplied] });
  });

  it('is atomic: concurrent replacements each take one seq step and never mix their arms', async () => {
    const stores = conns.map((c) => new PolicyStateStore(c, env.prefix, TTL));
    const target = store.policyTarget(name());
    const seqs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        stores[i % 8].replace(
          target,
          i + 1,
          new Map([
            ['a', vec(i, i)],
            ['b', vec(i)],
            [`only${i}`, vec(i)],
          ]),
        ),
      ),
    );
    expect([...seqs].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const st = await store.read(target);
    const i = st.epoch! - 1;
    expect(st).toEqual({
      epoch: i + 1,
      seq: 40,
      arms: new Map([
        ['a', vec(i, i)],
        ['b', vec(i)],
        [`only${i}`, vec(i)],
      ]),
    });
    expect(seqs[i]).toBe(40); // the last replacement is the one whose state is left
  });

  it('dropPolicy removes the state and its markers: the next batch finds it uninitialised', async () => {
    const p = name();
    const target = store.policyTarget(p);
    await store.replace(target, 1, new Map([['a', vec(1)]]), [{ marker: 'd:1', claimer: 'd1' }]);
    await store.dropPolicy(p);
    expect(await redis.exists(target.state, target.markers, target.times)).toBe(0);
    expect(await store.apply(target, [item('d:1', 'd1')], new Map())).toEqual({ kind: 'uninitialised' });
    expect(await store.read(target)).toEqual({ epoch: null, seq: 0, arms: new Map() });
  });
});
