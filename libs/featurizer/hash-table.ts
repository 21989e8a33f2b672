/**
 * A read-only table from 32-bit hashes to 31-bit masks, built once at load: open addressing with linear probing over
 * typed arrays. The featurizer's vocabulary lookups use it instead of a `Map<number, number>`, whose keys above 2³⁰
 * are boxed numbers (a hash and an allocation per lookup); the answers are the Map's, key for key.
 */
export class HashTable32 {
  private readonly keys: Int32Array;
  private readonly values: Int32Array;
  private readonly used: Uint8Array;
  private readonly mask: number;

  constructor(entries: ReadonlyMap<number, number>) {
    let capacity = 16;
    while (capacity < 2 * entries.size) capacity *= 2;
    this.keys = new Int32Array(capacity);
    this.values = new Int32Array(capacity);
    this.used = new Uint8Array(capacity);
    this.mask = capacity - 1;
    for (const [key, value] of entries) {
      if (!Number.isInteger(key) || key < 0 || key > 0xffffffff) throw new Error(`HashTable32: key ${key} is not a 32-bit unsigned integer`);
      if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new Error(`HashTable32: value ${value} is not a 31-bit mask`);
      const k = key | 0;
      let i = k & this.mask;
      while (this.used[i] && this.keys[i] !== k) i = (i + 1) & this.mask;
      this.used[i] = 1;
      this.keys[i] = k;
      this.values[i] = value;
    }
  }

  /** The value of a 32-bit unsigned key, 0 when absent. */
  get(key: number): number {
    const k = key | 0;
    let i = k & this.mask;
    while (this.used[i] === 1) {
      if (this.keys[i] === k) return this.values[i];
      i = (i + 1) & this.mask;
    }
    return 0;
  }
}
