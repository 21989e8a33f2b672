/**
 * What a writer last knew of a state hash: its seq and rev, and the arms it read or wrote at that version (null:
 * the field was absent). Valid exactly as long as the hash's (seq, rev) is unchanged, which commitBatch-3.lua checks
 * before every write, so a stale snapshot costs one refused commit, never a wrong sum.
 */
export interface StateSnapshot {
  seq: string;
  rev: string;
  arms: Map<string, Float64Array | null>;
  /** Scratch arrays the next values are written into (the previous values, once replaced), so a writer allocates none. */
  spare: Map<string, Float64Array>;
}

/**
 * The snapshots of the states this process writes, least recently used dropped first once their arms hold more
 * than `maxBytes` (a snapshot set again counts as just used), so a writer that commits to the same policy pass after pass need not read its arms back.
 */
export class StateSnapshots {
  private readonly map = new Map<string, { snap: StateSnapshot; bytes: number }>();
  private bytes = 0;

  constructor(readonly maxBytes: number) {
    if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be ≥ 0, got ${maxBytes}`);
  }

  get heldBytes(): number {
    return this.bytes;
  }

  /**
   * The snapshot of `key`, removed: the caller owns it (may change its arrays) until it sets it back, and a
   * concurrent caller for the same key finds none (reads its own) instead of sharing arrays in the middle of a change.
   */
  take(key: string): StateSnapshot | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.bytes -= e.bytes;
    return e.snap;
  }

  set(key: string, snap: StateSnapshot): void {
    this.delete(key);
    let bytes = 0;
    for (const v of snap.arms.values()) bytes += v?.byteLength ?? 0;
    for (const v of snap.spare.values()) bytes += v.byteLength;
    if (bytes > this.maxBytes) return;
    this.map.set(key, { snap, bytes });
    this.bytes += bytes;
    for (const [k, e] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= e.bytes;
    }
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.bytes -= e.bytes;
  }
}
