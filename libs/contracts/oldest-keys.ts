/**
 * The oldest key of a `Map` kept in use order (entries re-inserted on use, so its first key is the least recently
 * used), for evicting it. A fresh `map.keys().next()` walks every hole that deletions left at the front of V8's
 * table until the next rehash (tens of µs per call on a map of 10,000 kept full); an iterator kept across calls
 * resumes where it stopped, so finding the oldest is amortized O(1). Every key it answers must be deleted before
 * the next call (only then is the next live key after it the oldest).
 */
export class OldestKeys<K> {
  private it: Iterator<K>;

  constructor(private readonly map: Map<K, unknown>) {
    this.it = map.keys();
  }

  /** The oldest key; the map must not be empty. */
  next(): K {
    let n = this.it.next();
    if (n.done) {
      this.it = this.map.keys();
      n = this.it.next();
    }
    return n.value as K;
  }
}
