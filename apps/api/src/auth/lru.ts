import { OldestKeys } from '@app/contracts';

/**
 * A map of at most `capacity` entries: setting one more drops the least recently used (read with `get` or
 * written with `set`). A `Map` keeps insertion order, so re-inserting on use makes its first key the oldest.
 * Values must not be `undefined` (`get` answers `undefined` for a missing key).
 */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  private readonly oldest = new OldestKeys(this.map);

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LRU capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value, marked as just used. */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.oldest.next());
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Deletes every entry whose value matches; answers how many went. O(size): for rare events only. */
  deleteWhere(match: (value: V, key: K) => boolean): number {
    let n = 0;
    for (const [k, v] of this.map) if (match(v, k) && this.map.delete(k)) n++;
    return n;
  }
}
