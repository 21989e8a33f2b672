/**
 * The arm statistics' layout in the state keys' names: '' for the first, ':v2' since each arm also holds S_q, the
 * Σxxᵀ of its rated decisions (arm-stats.ts `xq`).
 */
export const STATE_LAYOUT = ':v2';

/**
 * Every Redis key name, built in one place. Per-policy keys share the hash tag {p:<name>} so one Lua call can
 * touch all of them on Redis Cluster.
 */
export class RedisKeys {
  constructor(private readonly prefix = 'rt') {}
  private tag(policy: string) {
    return `${this.prefix}:{p:${policy}}`;
  }
  /**
   * A policy's learning state, its exactly-once markers and their times: named with the layout of the arm
   * statistics they hold ({@link STATE_LAYOUT}), so that a build with another layout starts from its own keys (a
   * rebuild from Postgres on first use) while replicas of the other build, during a rolling upgrade, keep theirs.
   */
  state(policy: string) {
    return `${this.tag(policy)}:state${STATE_LAYOUT}`;
  }
  markers(policy: string) {
    return `${this.tag(policy)}:applied${STATE_LAYOUT}`;
  }
  markerTimes(policy: string) {
    return `${this.tag(policy)}:applied${STATE_LAYOUT}:t`;
  }
  /** The same keys of the earlier layouts (deleted with the policy; an upgraded deployment may delete them). */
  legacyStateKeys(policy: string): string[] {
    return [`${this.tag(policy)}:state`, `${this.tag(policy)}:applied`, `${this.tag(policy)}:applied:t`];
  }
  /** Hot copy of a decision, read by the API (owner, window) and the worker (join), expiring after the window. */
  decision(id: string) {
    return `${this.prefix}:dec:${id}`;
  }
  /** Policy registry: name → JSON config with version and epoch (the replicas' copy of Postgres). */
  policies() {
    return `${this.prefix}:policies`;
  }
  models() {
    return `${this.prefix}:models`;
  }
  /** Each model's energy estimate from its measured readings (field = model id, plus a marker that it was computed). */
  modelEnergy() {
    return `${this.prefix}:model-energy`;
  }
  /** A decision's cascade was continued (a decision is continued once: its feedback must not teach twice). */
  continued(decisionId: string) {
    return `${this.prefix}:cont:${decisionId}`;
  }
  /** API-side dedupe of accepted event ids (answers "duplicate"). */
  eventSeen(eventId: string) {
    return `${this.prefix}:ev:${eventId}`;
  }
  /** How many events were accepted for one decision (bounded per decision). */
  decisionEventCount(decisionId: string) {
    return `${this.prefix}:evn:${decisionId}`;
  }

  /** Circuit-breaker state of every model (hash field = model id). */
  breakers() {
    return `${this.prefix}:breakers`;
  }

  /** Recently revoked API key ids (sorted set, score = revocation time in ms), read by replicas that reconnect. */
  revokedKeys() {
    return `${this.prefix}:keys:revoked`;
  }
  /** Pub/sub channel on which each change of the registry (a policy or model written or removed) is announced. */
  registryChannel() {
    return `${this.prefix}:registry:ch`;
  }
  /** Pub/sub channel on which each revoked API key id is announced to every api replica. */
  keyRevocationChannel() {
    return `${this.prefix}:keys:revoked:ch`;
  }

  /**
   * One limit counter of an API key in one fixed window (`window`: minute or UTC day index). The counters of a key
   * share the hash tag {k:<key id>}, so one script can read and count them together on Redis Cluster.
   */
  keyLimit(keyId: string, counter: 'requests' | 'tokens' | 'usd' | 'events', window: number) {
    return `${this.prefix}:{k:${keyId}}:${counter}:${window}`;
  }

  /** The leases on an API key's calls in flight (a sorted set, deadlines as scores), beside its counters. */
  keyInFlight(keyId: string) {
    return `${this.prefix}:{k:${keyId}}:inflight`;
  }
}
