import { createRng } from '@app/bandits';
import { HashTable32 } from './hash-table.js';

describe('HashTable32', () => {
  it('answers what the Map it was built from answers, for present and absent 32-bit keys', () => {
    const rng = createRng(3);
    const u32 = () => (rng.int(0x10000) * 0x10000 + rng.int(0x10000)) >>> 0;
    const map = new Map<number, number>();
    for (let i = 0; i < 5000; i++) map.set(u32(), 1 + rng.int(0x7ffffffe));
    // Keys that collide in the low bits, the extremes, and 0.
    for (const k of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0x20000, 0x30000]) map.set(k, 7);
    const table = new HashTable32(map);
    for (const [k, v] of map) expect(table.get(k)).toBe(v);
    let absent = 0;
    for (let i = 0; i < 20000; i++) {
      const k = u32();
      if (map.has(k)) continue;
      absent++;
      expect(table.get(k)).toBe(0);
    }
    expect(absent).toBeGreaterThan(19000);
    // A key given as the signed 32-bit integer of the same bits finds the same entry.
    expect(table.get(0xffffffff | 0)).toBe(7);
  });

  it('refuses keys and values it cannot hold exactly', () => {
    expect(() => new HashTable32(new Map([[2 ** 32, 1]]))).toThrow(/32-bit/);
    expect(() => new HashTable32(new Map([[-1, 1]]))).toThrow(/32-bit/);
    expect(() => new HashTable32(new Map([[1, 2 ** 31]]))).toThrow(/31-bit/);
  });
});
