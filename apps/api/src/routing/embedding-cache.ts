import { OldestKeys } from '@app/contracts';

/** Bytes an entry is charged beyond its vector: the key (hex digest) and the Map's bookkeeping, roughly. */
export const ENTRY_OVERHEAD_BYTES = 160;

/**
 * Least-recently-used map of context vectors, bounded both in entries and in bytes (each entry is charged its
 * vector's bytes plus {@link ENTRY_OVERHEAD_BYTES}); setting past either bound drops the oldest entries. A `Map`
 * keeps insertion order, so re-inserting on use makes its first key the oldest. A vector larger than the byte bound
 * alone is not kept; with 0 entries or 0 bytes nothing is.
 *
 * Cached vectors are shared: callers must not write into them.
 */
export class EmbeddingCache {
  private readonly map = new Map<string, Float64Array>();
  private readonly oldest = new OldestKeys(this.map);
  private used = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError(`maxEntries must be a non-negative integer, got ${maxEntries}`);
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** Bytes charged for the entries held. */
  get bytes(): number {
    return this.used;
  }

  /** The vector, marked as just used. */
  get(key: string): Float64Array | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, value: Float64Array): void {
    this.delete(key);
    const cost = value.byteLength + ENTRY_OVERHEAD_BYTES;
    if (this.maxEntries === 0 || cost > this.maxBytes) return;
    this.map.set(key, value);
    this.used += cost;
    while (this.map.size > this.maxEntries || this.used > this.maxBytes) this.delete(this.oldest.next());
  }

  delete(key: string): boolean {
    const v = this.map.get(key);
    if (v === undefined) return false;
    this.map.delete(key);
    this.used -= v.byteLength + ENTRY_OVERHEAD_BYTES;
    return true;
  }
}
