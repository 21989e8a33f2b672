import { OldestKeys } from './oldest-keys.js';

describe('OldestKeys', () => {
  it('answers the least recently used key of a map kept in use order, as the map’s own first key would', () => {
    const map = new Map<number, number>();
    const oldest = new OldestKeys(map);
    let seed = 5;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 20_000; i++) {
      const k = rnd(300);
      map.delete(k); // used: moved to the end
      map.set(k, i);
      if (map.size > 100) {
        const first = map.keys().next().value as number;
        const got = oldest.next();
        expect(got).toBe(first);
        map.delete(got);
      }
      if (i % 997 === 0) map.delete(rnd(300)); // deletions anywhere
    }
  });

  it('starts over once its iterator ran out', () => {
    const map = new Map([['a', 1]]);
    const oldest = new OldestKeys(map);
    map.delete(oldest.next());
    map.set('b', 2);
    expect(oldest.next()).toBe('b');
  });
});
