import { type DecisionRecord } from '@app/contracts';
import { type Redis } from 'ioredis';
import { RedisKeys } from './keys.js';

/** Values of an event id's "seen" marker (see markSeen). */
const PENDING = 'p';
const QUEUED = 'q';

/** Hot copies of decisions (JSON strings with a TTL), and the API-side "seen" markers of event ids. */
export class DecisionHotStore {
  readonly keys: RedisKeys;
  constructor(private readonly redis: Redis, prefix = 'rt') {
    this.keys = new RedisKeys(prefix);
  }

  async put(rec: DecisionRecord, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.keys.decision(rec.id), JSON.stringify(rec), 'EX', ttlSeconds);
  }

  /** Looks many decisions up in one round trip; missing or expired ones are null. */
  async getMany(ids: readonly string[]): Promise<(DecisionRecord | null)[]> {
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.get(this.keys.decision(id));
    const res = (await p.exec()) ?? [];
    return res.map(([err, v]) => {
      if (err) throw err;
      return typeof v === 'string' ? (JSON.parse(v) as DecisionRecord) : null;
    });
  }

  /** SET NX per event id: true where the id is new. */
  /**
   * Marks event ids as seen and answers, per id, whether it should be queued now. A first sighting is marked
   * "pending" ('p') until `confirmSeen` records that its job is queued ('q'). A pending mark is left behind when
   * Redis fails between the mark and the job (the request then got a 503), so a pending id counts as not seen:
   * the retry queues it, and the worker's exactly-once application makes a second copy harmless. Only a queued
   * mark answers "duplicate".
   */
  async markSeen(eventIds: readonly string[], ttlSeconds: number): Promise<boolean[]> {
    const p = this.redis.pipeline();
    for (const id of eventIds) {
      const key = this.keys.eventSeen(id);
      p.set(key, PENDING, 'EX', ttlSeconds, 'NX');
      p.get(key);
    }
    const res = (await p.exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    return eventIds.map((_, i) => res[2 * i][1] === 'OK' || res[2 * i + 1][1] === PENDING);
  }

  /** Records that the events' jobs are queued: from now on they answer "duplicate". */
  async confirmSeen(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    const p = this.redis.pipeline();
    for (const id of eventIds) p.set(this.keys.eventSeen(id), QUEUED, 'KEEPTTL', 'XX');
    await p.exec();
  }

  async unmarkSeen(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length > 0) await this.redis.del(...eventIds.map((id) => this.keys.eventSeen(id)));
  }
}
