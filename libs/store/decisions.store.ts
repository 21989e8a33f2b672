import { type DecisionRecord } from '@app/contracts';
import { type Redis } from 'ioredis';
import { RedisKeys } from './keys.js';

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
  async markSeen(eventIds: readonly string[], ttlSeconds: number): Promise<boolean[]> {
    const p = this.redis.pipeline();
    for (const id of eventIds) p.set(this.keys.eventSeen(id), '1', 'EX', ttlSeconds, 'NX');
    const res = (await p.exec()) ?? [];
    return res.map(([err, v]) => {
      if (err) throw err;
      return v === 'OK';
    });
  }

  async unmarkSeen(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length > 0) await this.redis.del(...eventIds.map((id) => this.keys.eventSeen(id)));
  }
}
