import { type DecisionRecord } from '@app/contracts';

/**
 * Decisions a worker saw lately (in decision jobs, or looked up for an event), so that later events of the same
 * decision join it without a Redis round trip and a parse of its context: a proxied call's usage and its energy
 * reading come seconds after the decision, and feedback often soon after. What joining uses of a record never
 * changes once the decision is made (its estimates, filled in later, are not used to learn), so an entry is never
 * stale. Bounded: past `capacity` decisions (~0.8 KB each at d = 64: 25 MB when full), the oldest seen is forgotten and looked up
 * again when next needed.
 */
export class RecentDecisions {
  private readonly recs = new Map<string, DecisionRecord>();
  constructor(private readonly capacity = 30_000) {}

  get(id: string): DecisionRecord | undefined {
    return this.recs.get(id);
  }

  add(rec: DecisionRecord): void {
    if (this.capacity <= 0 || this.recs.has(rec.id)) return;
    this.recs.set(rec.id, rec);
    if (this.recs.size > this.capacity) this.recs.delete(this.recs.keys().next().value as string);
  }
}
