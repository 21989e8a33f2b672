import { type DecisionHead, type DecisionRecord } from '@app/contracts';
import { type RedisClient } from '@app/infra';
import { decodeHead, decodeHotCopy, encodeHotCopy } from './hot-copy-codec.js';
import { RedisKeys } from './keys.js';
import { MultiKeyScript } from './multi-key-script.js';
import { perSlotGroup, slotGroups } from './slot-groups.js';

/**
 * Values of an event id's "seen" marker (see markSeen): pending ('p' and the time it was set, ms; a bare 'p' once
 * its request failed), or queued ('q').
 */
const PENDING = 'p';
const QUEUED = 'q';

/**
 * How long a pending mark with its time counts as a request still under way (between its mark and its
 * confirmation, normally milliseconds; Redis's timeouts bound it). An older one was left by a request that failed
 * without saying so (its api crashed, or Redis failed before the mark could be marked failed).
 */
export const SEEN_IN_FLIGHT_MS = 10_000;

/**
 * What marking an event id found: `new` (this call set the mark), `inflight` (another request set it moments ago
 * and may still queue its job), `pending` (a mark left by a request that failed: its job may or may not be
 * queued), `queued` (a duplicate).
 */
export type SeenMark = 'new' | 'inflight' | 'pending' | 'queued';

/** What an existing mark (or none: null) says to a request that finds it at `now`. */
function seenMark(found: string | null, now: number): SeenMark {
  if (found === null) return 'new';
  if (!found.startsWith(PENDING)) return 'queued';
  // A bare 'p': its request failed (or an earlier version set it, without a time).
  const at = Number(found.slice(PENDING.length));
  return found.length > PENDING.length && now - at < SEEN_IN_FLIGHT_MS ? 'inflight' : 'pending';
}

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
   * "pending" with the time ('p<ms>') until `confirmSeen` records that its job is queued ('q'). A request that
   * fails after marking (its job may or may not be queued; the client got a 503) leaves its marks pending without
   * a time (`failSeen`), and such a mark counts as not seen: the retry queues it, and the worker's exactly-once
   * application makes a second copy harmless. A mark with its time, younger than SEEN_IN_FLIGHT_MS, belongs to a
   * request still under way (`inflight`: the copy is told to retry, as neither "accepted" nor "duplicate" would
   * be true yet); an older one was left by a request that failed without a word, and counts as not seen too.
   */
  async markSeen(eventIds: readonly string[], ttlSeconds: number, now = Date.now()): Promise<SeenMark[]> {
    // Per key: set if absent, answering the value it found (none: this call set it).
    const keys = eventIds.map((id) => this.keys.eventSeen(id));
    const found = await perSlotGroup(this.redis, keys, (group) => this.scripts.markSeen.run(group, [`${PENDING}${now}`, ttlSeconds]));
    return found.map((before) => seenMark(before, now));
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
   * Records that the request which marked these ids failed after its jobs may have been queued: their marks stay
   * pending, without a time, so a retry is queued at once (see markSeen). Only for ids the caller marked itself.
   */
  async failSeen(eventIds: readonly string[]): Promise<void> {
    await this.eachGroup(
      eventIds.map((id) => this.keys.eventSeen(id)),
      (group) => this.scripts.confirmSeen.run(group, [PENDING]),
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

  /** One call per group of `keys` that one script may take (slotGroups), sent together. */
  private async eachGroup(keys: string[], call: (group: string[]) => Promise<unknown>): Promise<void> {
    await Promise.all(slotGroups(this.redis, keys).map((g) => call(g.map((i) => keys[i]))));
  }
}
