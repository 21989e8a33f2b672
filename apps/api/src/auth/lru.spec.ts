import { Lru } from './lru.js';

describe('Lru', () => {
  it('never holds more than its capacity and drops the least recently used first', () => {
    const c = new Lru<string, number>(3);
    for (const [k, v] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ] as const)
      c.set(k, v);
    expect(c.get('a')).toBe(1); // a is now the most recent: b is the oldest
    c.set('d', 4);
    expect([c.size, c.has('a'), c.has('b'), c.has('c'), c.has('d')]).toEqual([3, true, false, true, true]);
    c.set('c', 30); // overwrite marks as used too
    c.set('e', 5);
    expect([...['a', 'c', 'd', 'e'].map((k) => c.has(k))]).toEqual([false, true, true, true]);
    for (let i = 0; i < 10_000; i++) c.set(`x${i}`, i);
    expect(c.size).toBe(3);
  });

  it('deletes by value and rejects a capacity below one', () => {
    const c = new Lru<string, { id: string }>(10);
    c.set('h1', { id: 'k1' });
    c.set('h2', { id: 'k2' });
    c.set('h3', { id: 'k1' });
    expect(c.deleteWhere((v) => v.id === 'k1')).toBe(2);
    expect([c.has('h1'), c.has('h2'), c.has('h3')]).toEqual([false, true, false]);
    expect(c.delete('h2')).toBe(true);
    expect(c.get('h2')).toBeUndefined();
    expect(() => new Lru(0)).toThrow(RangeError);
  });
});
