import { randomFillSync } from 'node:crypto';

const ID_BYTES = 15;
const POOL_IDS = 512;

/**
 * Unguessable ids (decisions `dec_…`, events the caller did not name `ev_…`): the prefix and 120 random bits
 * (base64url), drawn from a pool refilled in one call per 512 ids, so knowing one's own ids says nothing about the
 * next ones (a feedback or usage event id derived from a decision id cannot be claimed ahead of it). One short
 * string per id (a UUID's text is built from a dozen pieces).
 */
export class RandomIds {
  private readonly pool = Buffer.alloc(ID_BYTES * POOL_IDS);
  private next = POOL_IDS;

  constructor(private readonly prefix: string) {}

  id(): string {
    if (this.next === POOL_IDS) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    const start = ID_BYTES * this.next++;
    return this.prefix + this.pool.toString('base64url', start, start + ID_BYTES);
  }
}
