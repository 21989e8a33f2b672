import { type DecisionHead, type DecisionRecord } from '@app/contracts';
import { type RedisClient } from '@app/infra';
import { decodeHead, decodeHotCopy, encodeHotCopy } from './hot-copy-codec.js';
import { RedisKeys } from './keys.js';
import { MultiKeyScript } from './multi-key-script.js';
import { perSlotGroup, slotGroups } from './slot-groups.js';

/** Values of an event id's "seen" marker (see markSeen). */
const PENDING = 'p';
const QUEUED = 'q';
/** markSeen-n.lua's answer for a stale pending mark it took over. */
const TAKEN = 'taken';

/**
 * What marking an event id found: `new` (this call set the mark, or took over one left pending longer than the
 * stale age), `busy` (another request's pending mark: its job may be about to be queued, or it may still fail),
 * `queued` (a duplicate).
 */
export type SeenMark = 'new' | 'busy' | 'queued';

/**
 * Hot copies of decisions (JSON strings with a TTL), and the API-side "seen" markers of event ids. Each key is of
 * one decision or one event, so on a cluster a batch spans slots and nodes: a batch is one multi-key command or
 * script per group of keys that may share one (slotGroups: the whole batch on one Redis node, each hash slot's
 * keys on a cluster), the groups sent together.
 */
export class DecisionHotStore {
  readonly keys: RedisKeys;
  private readonly scripts: {
    countEvents: MultiKeyScript<number[]>;
    markSeen: MultiKeyScript<(string | null)[]>;
    confirmSeen: MultiKeyScript<number>;
    unmarkSeen: MultiKeyScript<number>;
    abandonSeen: MultiKeyScript<number>;
  };
  constructor(
    private readonly redis: RedisClient,
    prefix = 'rt',
  ) {
    this.keys = new RedisKeys(prefix);
    this.scripts = {
      countEvents: new MultiKeyScript(redis, 'countEvents'),
      markSeen: new MultiKeyScript(redis, 'markSeen'),
      confirmSeen: new MultiKeyScript(redis, 'confirmSeen'),
      unmarkSeen: new MultiKeyScript(redis, 'unmarkSeen'),
      abandonSeen: new MultiKeyScript(redis, 'abandonSeen'),
    };
  }

  async put(rec: DecisionRecord, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.keys.decision(rec.id), encodeHotCopy(rec), 'EX', ttlSeconds);
  }

  /** Looks many decisions up in one round trip; missing or expired ones are null. */
  getMany(ids: readonly string[]): Promise<(DecisionRecord | null)[]> {
    return this.read(ids, decodeHotCopy);
  }

  /** The same, without their contexts (hot-copy-codec.ts: the context is not parsed). */
  getHeads(ids: readonly string[]): Promise<(DecisionHead | null)[]> {
    return this.read(ids, decodeHead);
  }

  private async read<T>(ids: readonly string[], decode: (text: string) => T): Promise<(T | null)[]> {
    const res = await perSlotGroup(
      this.redis,
      ids.map((id) => this.keys.decision(id)),
      (keys) => this.redis.mget(keys),
    );
    return res.map((v) => (v === null ? null : decode(v)));
  }

  /**
   * Marks event ids as seen and answers, per id, what the mark was (SeenMark). A first sighting is marked
   * "pending" ('p') until `confirmSeen` records that its job is queued ('q'); only a queued mark is a duplicate.
   * A pending mark younger than `staleMs` belongs to a request still under way (`busy`: its caller's copy is told
   * to retry). One older was left behind by a request that failed between the mark and its job (Redis failing,
   * the process gone): this call takes it over (`new`), and the worker's exactly-once application makes a second
   * copy in the queue harmless.
   */
  async markSeen(eventIds: readonly string[], ttlSeconds: number, staleMs: number): Promise<SeenMark[]> {
    // Per key: set if absent, answering the value it found (none: this call set it; 'taken': a stale one it reset).
    const keys = eventIds.map((id) => this.keys.eventSeen(id));
    const found = await perSlotGroup(this.redis, keys, (group) => this.scripts.markSeen.run(group, [PENDING, ttlSeconds, staleMs]));
    return found.map((before) => (before === null || before === TAKEN ? 'new' : before === PENDING ? 'busy' : 'queued'));
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
    await this.eachGroup(
      eventIds.map((id) => this.keys.eventSeen(id)),
      (group) => this.scripts.confirmSeen.run(group, [QUEUED]),
    );
  }

  /**
   * Counts `n` more events against each decision and answers, per decision, how many of them fit under `limit`
   * (only those are counted): one script call per group of keys (countEvents-n.lua), atomic per decision, so
   * concurrent callers together accept exactly up to the limit.
   */
  async countEvents(wanted: ReadonlyMap<string, number>, limit: number, ttlSeconds: number): Promise<Map<string, number>> {
    const ids = [...wanted.keys()];
    const counts = new Map(ids.map((id) => [this.keys.decisionEventCount(id), wanted.get(id)!]));
    const fits = await perSlotGroup(this.redis, [...counts.keys()], (group) =>
      this.scripts.countEvents.run(group, [limit, ttlSeconds, ...group.map((k) => counts.get(k)!)]),
    );
    return new Map(ids.map((id, i) => [id, fits[i]]));
  }

  /** Takes counts back (events that were counted but not queued). */
  async uncountEvents(counts: ReadonlyMap<string, number>): Promise<void> {
    await Promise.all([...counts].filter(([, n]) => n > 0).map(([id, n]) => this.redis.decrby(this.keys.decisionEventCount(id), n)));
  }

  /** Gives pending marks back (their events were not queued); a mark confirmed meanwhile stays (unmarkSeen-n.lua). */
  async unmarkSeen(eventIds: readonly string[]): Promise<void> {
    await this.eachGroup(
      eventIds.map((id) => this.keys.eventSeen(id)),
      (group) => this.scripts.unmarkSeen.run(group, [PENDING]),
    );
  }

  /**
   * Leaves pending marks to the next sender of their ids (abandonSeen-n.lua): for events a failed request may or
   * may not have queued. Each is aged past `staleMs`, so the next copy takes it over at once (and queues it again,
   * which the worker's exactly-once application makes harmless) instead of being told to retry until then.
   */
  async abandonSeen(eventIds: readonly string[], ttlSeconds: number, staleMs: number): Promise<void> {
    await this.eachGroup(
      eventIds.map((id) => this.keys.eventSeen(id)),
      (group) => this.scripts.abandonSeen.run(group, [PENDING, ttlSeconds * 1000 - staleMs]),
    );
  }

  /** One call per group of `keys` that one script may take (slotGroups), sent together. */
  private async eachGroup(keys: string[], call: (group: string[]) => Promise<unknown>): Promise<void> {
    await Promise.all(slotGroups(this.redis, keys).map((g) => call(g.map((i) => keys[i]))));
  }
}
