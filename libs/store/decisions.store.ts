import { type DecisionRecord } from '@app/contracts';
import { type RedisClient } from '@app/infra';
import { RedisKeys } from './keys.js';
import { luaSource } from './lua-source.js';

interface ScriptRedis {
  countEvents(key: string, n: number, limit: number, ttlSeconds: number): Promise<number>;
  unmarkSeen(key: string, pending: string): Promise<number>;
}

/** Values of an event id's "seen" marker (see markSeen). */
const PENDING = 'p';
const QUEUED = 'q';

/**
 * What marking an event id found: `new` (this call set the mark), `pending` (a mark whose job may not be queued:
 * a request that failed, or one still under way), `queued` (a duplicate).
 */
export type SeenMark = 'new' | 'pending' | 'queued';

/**
 * Hot copies of decisions (JSON strings with a TTL), and the API-side "seen" markers of event ids. Each key is of
 * one decision or one event, so on a cluster a batch spans slots and nodes: batches are single-key commands sent
 * together (the connection auto-pipelines them, per node on a cluster), never one multi-key command or pipeline.
 */
export class DecisionHotStore {
  readonly keys: RedisKeys;
  private readonly scripts: ScriptRedis;
  constructor(
    private readonly redis: RedisClient,
    prefix = 'rt',
  ) {
    this.keys = new RedisKeys(prefix);
    const defined = redis as unknown as Partial<ScriptRedis>;
    if (!defined.countEvents) redis.defineCommand('countEvents', { numberOfKeys: 1, lua: luaSource('countEvents-1.lua') });
    if (!defined.unmarkSeen) redis.defineCommand('unmarkSeen', { numberOfKeys: 1, lua: luaSource('unmarkSeen-1.lua') });
    this.scripts = redis as unknown as ScriptRedis;
  }

  async put(rec: DecisionRecord, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.keys.decision(rec.id), JSON.stringify(rec), 'EX', ttlSeconds);
  }

  /** Looks many decisions up in one round trip; missing or expired ones are null. */
  async getMany(ids: readonly string[]): Promise<(DecisionRecord | null)[]> {
    const res = await Promise.all(ids.map((id) => this.redis.get(this.keys.decision(id))));
    return res.map((v) => (v === null ? null : (JSON.parse(v) as DecisionRecord)));
  }

  /**
   * Marks event ids as seen and answers, per id, what the mark was (SeenMark). A first sighting is marked
   * "pending" ('p') until `confirmSeen` records that its job is queued ('q'). A pending mark is left behind when
   * Redis fails between the mark and the job (the request then got a 503), so a pending id counts as not seen:
   * the retry queues it, and the worker's exactly-once application makes a second copy harmless. Only a queued
   * mark is a duplicate (`fresh` below).
   */
  async markSeen(eventIds: readonly string[], ttlSeconds: number): Promise<SeenMark[]> {
    return Promise.all(
      eventIds.map(async (id): Promise<SeenMark> => {
        // One command: set if absent, answering the value it found (none: this call set it).
        const before = await this.redis.set(this.keys.eventSeen(id), PENDING, 'EX', ttlSeconds, 'NX', 'GET');
        return before === null ? 'new' : before === PENDING ? 'pending' : 'queued';
      }),
    );
  }

  /** Claims the one continuation of a decision's cascade: true for the first caller only (until `ttlSeconds`). */
  async claimContinuation(decisionId: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(this.keys.continued(decisionId), '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  /** Whether the decision's cascade was continued (claimed) already. */
  async wasContinued(decisionId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.continued(decisionId))) === 1;
  }

  /** Gives a claim back (the continuation failed before anything was recorded). */
  async releaseContinuation(decisionId: string): Promise<void> {
    await this.redis.del(this.keys.continued(decisionId));
  }

  /** Records that the events' jobs are queued: from now on they answer "duplicate". */
  async confirmSeen(eventIds: readonly string[]): Promise<void> {
    await Promise.all(eventIds.map((id) => this.redis.set(this.keys.eventSeen(id), QUEUED, 'KEEPTTL', 'XX')));
  }

  /**
   * Counts `n` more events against each decision and answers, per decision, how many of them fit under `limit`
   * (only those are counted): one script call per decision (countEvents-1.lua), atomic, so concurrent callers
   * together accept exactly up to the limit.
   */
  async countEvents(wanted: ReadonlyMap<string, number>, limit: number, ttlSeconds: number): Promise<Map<string, number>> {
    const ids = [...wanted.keys()];
    const fits = await Promise.all(ids.map((id) => this.scripts.countEvents(this.keys.decisionEventCount(id), wanted.get(id)!, limit, ttlSeconds)));
    return new Map(ids.map((id, i) => [id, fits[i]]));
  }

  /** Takes counts back (events that were counted but not queued). */
  async uncountEvents(counts: ReadonlyMap<string, number>): Promise<void> {
    await Promise.all([...counts].filter(([, n]) => n > 0).map(([id, n]) => this.redis.decrby(this.keys.decisionEventCount(id), n)));
  }

  /** Gives pending marks back (their events were not queued); a mark confirmed meanwhile stays (unmarkSeen-1.lua). */
  async unmarkSeen(eventIds: readonly string[]): Promise<void> {
    await Promise.all(eventIds.map((id) => this.scripts.unmarkSeen(this.keys.eventSeen(id), PENDING)));
  }
}
