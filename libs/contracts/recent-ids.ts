/**
 * The ids most recently added, at most `capacity` of them, the oldest forgotten first. Eviction goes through a ring
 * of the ids in insertion order: deleting a Set's first entry by iterating it would scan the holes that earlier
 * deletions left (V8 compacts them only on a rehash), tens of µs per add once full.
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  private readonly ring: string[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('RecentIds needs room for at least one id');
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Adds `id`; false when it was already there. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    if (this.ring.length < this.capacity) this.ring.push(id);
    else {
      this.ids.delete(this.ring[this.next]);
      this.ring[this.next] = id;
      this.next = (this.next + 1) % this.capacity;
    }
    this.ids.add(id);
    return true;
  }

  get size(): number {
    return this.ids.size;
  }
}
