import { RecentIds } from '@app/contracts';

/**
 * Decision ids this process knows are stored in full (with their estimates) and applied. Neither ever reverts (no
 * path clears `applied`, deletes a decision or empties its estimates), so a learning pass may take such a decision
 * as stored and applied without asking Postgres. Bounded: past `capacity` ids, the oldest known is forgotten (and
 * is looked up again when next needed).
 */
export class SettledDecisions {
  private readonly ids: RecentIds;
  constructor(capacity = 50_000) {
    this.ids = new RecentIds(capacity);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.add(id);
  }
}
