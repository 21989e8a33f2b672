import { EmbeddingCache, ENTRY_OVERHEAD_BYTES } from './embedding-cache.js';

const vec = (dim: number, v = 1) => new Float64Array(dim).fill(v);
const cost = (dim: number) => dim * 8 + ENTRY_OVERHEAD_BYTES;

describe('EmbeddingCache', () => {
  it('answers what was set, and undefined for what was not', () => {
    const c = new EmbeddingCache(10, 1 << 20);
    const x = vec(4, 0.5);
    c.set('a', x);
    expect(c.get('a')).toBe(x);
    expect(c.get('b')).toBeUndefined();
    expect(c.size).toBe(1);
    expect(c.bytes).toBe(cost(4));
  });

  it('drops the least recently used entry past the entry bound (a get counts as a use)', () => {
    const c = new EmbeddingCache(2, 1 << 20);
    c.set('a', vec(4));
    c.set('b', vec(4));
    c.get('a');
    c.set('c', vec(4));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBeDefined();
    expect(c.get('c')).toBeDefined();
    expect(c.size).toBe(2);
  });

  it('drops the oldest entries past the byte bound and keeps the count of bytes exact', () => {
    const c = new EmbeddingCache(100, 3 * cost(64));
    for (const k of ['a', 'b', 'c']) c.set(k, vec(64));
    expect(c.size).toBe(3);
    c.set('d', vec(128)); // twice as large: 'a' and 'b' must go
    expect(c.get('a')).toBeUndefined();
    expect(c.get('b')).toBeUndefined();
    expect(c.get('c')).toBeDefined();
    expect(c.get('d')).toBeDefined();
    expect(c.bytes).toBe(cost(64) + cost(128));
    expect(c.bytes).toBeLessThanOrEqual(c.maxBytes);
  });

  it('replacing a key charges it once', () => {
    const c = new EmbeddingCache(10, 1 << 20);
    c.set('a', vec(8));
    c.set('a', vec(16));
    expect(c.size).toBe(1);
    expect(c.bytes).toBe(cost(16));
    expect(c.delete('a')).toBe(true);
    expect(c.bytes).toBe(0);
    expect(c.delete('a')).toBe(false);
  });

  it('keeps nothing with 0 entries or 0 bytes, and never a vector larger than the byte bound', () => {
    const none = new EmbeddingCache(0, 1 << 20);
    none.set('a', vec(4));
    expect(none.get('a')).toBeUndefined();
    const noBytes = new EmbeddingCache(10, 0);
    noBytes.set('a', vec(4));
    expect(noBytes.size).toBe(0);
    const small = new EmbeddingCache(10, cost(8));
    small.set('a', vec(8));
    small.set('big', vec(9));
    expect(small.get('big')).toBeUndefined();
    expect(small.get('a')).toBeDefined(); // not evicted for a vector that could never fit
  });

  it('stays within both bounds under many distinct keys', () => {
    const c = new EmbeddingCache(1000, 50 * cost(64));
    for (let i = 0; i < 10_000; i++) c.set(`k${i}`, vec(64, i));
    expect(c.size).toBe(50);
    expect(c.bytes).toBe(50 * cost(64));
    expect(c.get('k9999')?.[0]).toBe(9999);
  });

  it('refuses nonsense bounds', () => {
    expect(() => new EmbeddingCache(-1, 10)).toThrow(RangeError);
    expect(() => new EmbeddingCache(1, 1.5)).toThrow(RangeError);
  });
});
