import { type DecisionRecord } from '@app/contracts';
import { type Redis } from 'ioredis';
import { RedisKeys } from './keys.js';

/** Values of an event id's "seen" marker (see markSeen). */
const PENDING = 'p';
const QUEUED = 'q';

/** Hot copies of decisions (JSON strings with a TTL), and the API-side "seen" markers of event ids. */
export class DecisionHotStore {
  readonly keys: RedisKeys;
  constructor(
    private readonly redis: Redis,
    prefix = 'rt',
  ) {
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

  /**
   * Counts `n` more events against each decision and answers, per decision, how many of them fit under `limit`
   * (the excess is not counted). Concurrent callers may together accept fewer than the limit, never more.
   */
  async countEvents(wanted: ReadonlyMap<string, number>, limit: number, ttlSeconds: number): Promise<Map<string, number>> {
    const ids = [...wanted.keys()];
    const out = new Map<string, number>();
    if (ids.length === 0) return out;
    const p = this.redis.pipeline();
    for (const id of ids) p.incrby(this.keys.decisionEventCount(id), wanted.get(id)!).expire(this.keys.decisionEventCount(id), ttlSeconds);
    const res = (await p.exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    const undo = new Map<string, number>();
    ids.forEach((id, i) => {
      const n = wanted.get(id)!;
      const total = Number(res[2 * i][1]);
      const fit = Math.max(0, Math.min(n, limit - (total - n)));
      out.set(id, fit);
      if (fit < n) undo.set(id, n - fit);
    });
    await this.uncountEvents(undo);
    return out;
  }

  /** Takes counts back (events that were counted but not queued). */
  async uncountEvents(counts: ReadonlyMap<string, number>): Promise<void> {
    if (counts.size === 0) return;
    const p = this.redis.pipeline();
    for (const [id, n] of counts) if (n > 0) p.decrby(this.keys.decisionEventCount(id), n);
    await p.exec();
  }

  async unmarkSeen(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length > 0) await this.redis.del(...eventIds.map((id) => this.keys.eventSeen(id)));
  }
}
