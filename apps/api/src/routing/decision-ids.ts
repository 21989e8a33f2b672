import { randomFillSync } from 'node:crypto';

const ID_BYTES = 15;
const POOL_IDS = 512;

/**
 * Unguessable decision ids: 120 random bits each (base64url), drawn from a pool refilled in one call per 512
 * ids, so knowing one's own ids says nothing about the next ones (a feedback or usage event id derived from a
 * decision id cannot be claimed ahead of it).
 */
export class DecisionIds {
  private readonly pool = Buffer.alloc(ID_BYTES * POOL_IDS);
  private next = POOL_IDS;

  id(): string {
    if (this.next === POOL_IDS) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    const start = ID_BYTES * this.next++;
    return `dec_${this.pool.toString('base64url', start, start + ID_BYTES)}`;
  }
}
