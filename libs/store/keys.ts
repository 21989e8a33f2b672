/**
 * Every Redis key name, built in one place. Per-policy keys share the hash tag {p:<name>} so one Lua call can
 * touch all of them on Redis Cluster.
 */
export class RedisKeys {
  constructor(private readonly prefix = 'rt') {}
  private tag(policy: string) {
    return `${this.prefix}:{p:${policy}}`;
  }
  state(policy: string) {
    return `${this.tag(policy)}:state`;
  }
  markers(policy: string) {
    return `${this.tag(policy)}:applied`;
  }
  markerTimes(policy: string) {
    return `${this.tag(policy)}:applied:t`;
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
  modelEnergyState() {
    return `${this.prefix}:{models}:state`;
  }
  modelEnergyMarkers() {
    return `${this.prefix}:{models}:applied`;
  }
  modelEnergyMarkerTimes() {
    return `${this.prefix}:{models}:applied:t`;
  }
  /** API-side dedupe of accepted event ids (answers "duplicate"). */
  eventSeen(eventId: string) {
    return `${this.prefix}:ev:${eventId}`;
  }

  /** Circuit-breaker state of every model (hash field = model id). */
  breakers() {
    return `${this.prefix}:breakers`;
  }
}
