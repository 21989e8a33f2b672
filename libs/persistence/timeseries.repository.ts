import { type Sql } from './db.js';

/** One bucket of one model: what was decided and what was realised after those decisions. */
export interface TimeseriesRow {
  bucket: Date;
  model: string;
  decisions: number;
  feedback: number;
  meanReward: number | null;
  /** Mean time from a decision to its first learned feedback (ms), over the decisions with feedback. */
  feedbackLagMs: number | null;
  energyReadings: number;
  energyJoules: number | null;
  costUsd: number | null;
  latencyMs: number | null;
  /** Proxied calls answered by another model than the one decided (a fallback after a failure). */
  fallbacks: number;
}

/** Per-bucket activity of a policy, from the durable log (every epoch). */
export class TimeseriesRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Buckets of `bucketSeconds` on the UTC clock (from the Unix epoch), per decided model, in time order, of the
   * decisions from `from` (inclusive) to `to` (exclusive).
   */
  buckets(policy: string, from: Date, to: Date, bucketSeconds: number): Promise<TimeseriesRow[]> {
    return this.sql<TimeseriesRow[]>`
      select date_bin(${bucketSeconds} * interval '1 second', d.created_at, timestamptz '1970-01-01 00:00:00+00') as bucket, d.arm as model,
        count(*)::int as decisions,
        count(f.reward)::int as feedback, avg(f.reward) as "meanReward", avg(f.lag_ms) as "feedbackLagMs",
        count(en.joules)::int as "energyReadings", avg(en.joules) as "energyJoules",
        avg(u.cost_usd) as "costUsd", avg(u.latency_ms) as "latencyMs",
        (count(*) filter (where u.model is not null and u.model <> d.arm))::int as fallbacks
      from decisions d
      left join lateral (
        select e.reward, greatest(extract(epoch from e.received_at - d.created_at)::float8 * 1000, 0) as lag_ms
        from events e where e.decision_id = d.id and e.kind = 'feedback' and e.status = 'learned'
        order by e.received_at limit 1) f on true
      left join lateral (
        select sum(e.joules) as joules from events e where e.decision_id = d.id and e.kind = 'energy' and e.status = 'learned') en on true
      left join lateral (
        select e.cost_usd, e.latency_ms, e.model from events e where e.decision_id = d.id and e.kind = 'usage'
        order by e.received_at limit 1) u on true
      where d.policy = ${policy} and d.created_at >= ${from} and d.created_at < ${to}
      group by 1, 2 order by 1, 2`;
  }
}
