import { type DecisionRecord } from '@app/contracts';

/**
 * Decisions a worker saw lately (in decision jobs, or looked up for an event), so that later events of the same
 * decision join it without a Redis round trip and a parse of its context: a proxied call's usage and its energy
 * reading come seconds after the decision, and feedback often soon after. Joining uses only what a decision is
 * made with (its context, arms, policy, epoch, time), never changed afterwards, so an entry is never stale. Bounded
 * by the numbers of the contexts kept, whatever the policies' dimension (each decision counts its context's length
 * + 1): past `maxNumbers` (2,000,000, 16 MB of float64: ~30,800 decisions at d = 64, ~25 MB with the rest of each
 * record), the oldest seen are forgotten and looked up again when next needed.
 */
export class RecentDecisions {
  private readonly recs = new Map<string, DecisionRecord>();
  /**
   * Their ids in insertion order from `head` (evicting through the Map's own order would scan the holes earlier
   * deletions left: tens of µs per add once full).
   */
  private order: string[] = [];
  private head = 0;
  private numbers = 0;
  constructor(private readonly maxNumbers = 2_000_000) {}

  get(id: string): DecisionRecord | undefined {
    return this.recs.get(id);
  }

  add(rec: DecisionRecord): void {
    if (weight(rec) > this.maxNumbers || this.recs.has(rec.id)) return;
    this.recs.set(rec.id, rec);
    this.order.push(rec.id);
    this.numbers += weight(rec);
    while (this.numbers > this.maxNumbers) {
      const id = this.order[this.head++];
      this.numbers -= weight(this.recs.get(id)!);
      this.recs.delete(id);
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  get size(): number {
    return this.recs.size;
  }
}

const weight = (rec: DecisionRecord) => rec.x.length + 1;
