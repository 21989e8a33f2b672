import calculateSlot from 'cluster-key-slot';
import { type RedisClient } from '@app/infra';
import { perSlotGroup, slotGroups } from './slot-groups.js';

// Only the connection's kind matters to the grouping (isCluster), so plain objects stand in for the two kinds.
const node = {} as RedisClient;
const cluster = { isCluster: true } as unknown as RedisClient;

describe('slotGroups', () => {
  it('keeps a batch on one node as runs of at most max keys, in order', () => {
    const keys = Array.from({ length: 7 }, (_, i) => `rt:ev:${i}`);
    expect(slotGroups(node, keys, 3)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(slotGroups(node, [], 3)).toEqual([]);
  });

  it('groups a cluster batch by hash slot, at most max keys a group', () => {
    const keys = ['rt:{p:a}:x', 'rt:ev:1', 'rt:{p:a}:y', 'rt:ev:2', 'rt:{p:a}:z', 'rt:ev:1'];
    const groups = slotGroups(cluster, keys, 2);
    for (const g of groups) expect(new Set(g.map((i) => calculateSlot(keys[i]))).size).toBe(1);
    expect(groups.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(groups.filter((g) => g.includes(0))).toEqual([[0, 2]]);
    expect(groups.filter((g) => g.includes(4))).toEqual([[4]]);
    expect(groups.filter((g) => g.includes(1))).toEqual([[1, 5]]);
  });

  it('perSlotGroup answers one value per key in the order of the keys', async () => {
    const keys = ['b', 'a', '{t}1', 'c', '{t}2'];
    const calls: string[][] = [];
    const answer = (ks: string[]) => (calls.push(ks), Promise.resolve(ks.map((k) => k.toUpperCase())));
    expect(await perSlotGroup(cluster, keys, answer)).toEqual(['B', 'A', '{T}1', 'C', '{T}2']);
    expect(calls.find((c) => c.includes('{t}1'))).toEqual(['{t}1', '{t}2']);
    calls.length = 0;
    expect(await perSlotGroup(node, keys, answer)).toEqual(['B', 'A', '{T}1', 'C', '{T}2']);
    expect(calls).toEqual([keys]);
  });
});
