import { STATE_LAYOUT, type PolicyStateStore } from '@app/store';
import { type Redis } from 'ioredis';
import { openStateStore, type StateStoreFixture } from '../support/state-store.js';

// The learning state's keys are named with the layout of the statistics they hold: a state of the earlier layout
// (left by replicas of an earlier release) is not read, so the first use rebuilds it from Postgres, and deleting the
// policy deletes both.
describe('state keys by layout (real Redis)', () => {
  let fx: StateStoreFixture;
  let redis: Redis;
  let store: PolicyStateStore;

  beforeAll(async () => {
    fx = await openStateStore('state_layout', 60_000);
    ({ redis, store } = fx);
  });
  afterAll(() => fx.close());

  it('does not read a state of the earlier layout, and drops it with the policy', async () => {
    const [legacyState, legacyMarkers, legacyTimes] = store.keys.legacyStateKeys('p');
    expect(store.keys.state('p')).toBe(`${legacyState}${STATE_LAYOUT}`);
    await redis.hset(legacyState, 'epoch', '1', 'seq', '7', 'arm:a', Buffer.alloc(16));
    await redis.hset(legacyMarkers, 'd:x', 'x');
    await redis.zadd(legacyTimes, 1, 'd:x');
    expect(await store.versions(['p'])).toEqual([{ seq: 0, epoch: null }]);
    expect(await store.replace(store.policyTarget('p'), 1, new Map([['a', Float64Array.of(1, 2)]]))).not.toBeNull();
    expect((await store.versions(['p']))[0].epoch).toBe(1);
    await store.dropPolicy('p');
    const keys = [store.keys.state('p'), store.keys.markers('p'), store.keys.markerTimes('p'), legacyState, legacyMarkers, legacyTimes];
    expect(await redis.exists(...keys)).toBe(0);
  });
});
