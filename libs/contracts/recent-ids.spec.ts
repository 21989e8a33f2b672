import { RecentIds } from './recent-ids.js';

describe('RecentIds', () => {
  it('remembers the newest ids up to its capacity, forgetting the oldest first', () => {
    const ids = new RecentIds(3);
    expect(['a', 'b', 'c', 'a'].map((id) => ids.add(id))).toEqual([true, true, true, false]);
    expect(ids.add('d')).toBe(true);
    expect([ids.size, ids.has('a'), ids.has('b'), ids.has('d')]).toEqual([3, false, true, true]);
    expect(ids.add('a')).toBe(true);
    expect(ids.add('d')).toBe(false);
  });

  it('stays exact as its ring wraps many times', () => {
    const ids = new RecentIds(7);
    for (let i = 0; i < 1000; i++) ids.add(`e${i}`);
    expect(ids.size).toBe(7);
    expect(Array.from({ length: 9 }, (_, k) => ids.has(`e${991 + k}`))).toEqual([false, false, true, true, true, true, true, true, true]);
  });
});
