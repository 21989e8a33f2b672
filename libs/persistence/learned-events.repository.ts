import { type Sql } from './db.js';

export interface LearnedEventRow {
  id: string;
  kind: 'feedback' | 'pairwise';
  reward: number;
  context: number[];
  armIndex: number;
  arms: string[] | null;
  createdAt: Date;
  /** Full-precision timestamp text (µs): the paging cursor, never rounded through a JS Date. */
  persistedAt: string;
}

/** A learned event's id and its place in the log's order (what a reader checks for rows it has not seen). */
export interface LearnedEventRef {
  id: string;
  persistedAt: string;
}

/**
 * The learned quality log one policy epoch's order-dependent algorithms replay (FGTS.CDB duel records and thumbs,
 * TI-UCB observations): events whose learning pass closed as "learned", with their decision's context and arms.
 * Read incrementally by persisted_at; rows commit out of order, so a reader also looks back over a recent window
 * (ids only) for rows it has not seen, and reads those by id. Callers dedupe by id.
 */
export class LearnedEventsRepository {
  constructor(private readonly sql: Sql) {}

  /** Rows after (persisted_at, id) > (after − overlapMs, afterId), in that order. */
  since(policy: string, epoch: number, after: string, afterId: string, overlapMs: number, limit = 5000): Promise<LearnedEventRow[]> {
    return this.sql<LearnedEventRow[]>`
      select e.id, e.kind, e.reward, d.context, d.arm_index as "armIndex", d.arms, d.created_at as "createdAt",
             e.persisted_at::text as "persistedAt"
      from events e join decisions d on d.id = e.decision_id
      where e.policy = ${policy} and e.epoch = ${epoch} and e.status = 'learned' and e.applied
        and e.kind in ('feedback', 'pairwise') and (e.persisted_at, e.id) > (${after}::text::timestamptz - ${overlapMs} * interval '1 millisecond', ${afterId})
      order by e.persisted_at, e.id limit ${limit}`;
  }

  /**
   * The ids of the rows with (after − overlapMs, afterId) < (persisted_at, id) <= (until, untilId), in that order (no
   * context read): a reader's look back behind its cursor.
   */
  refsBetween(
    policy: string,
    epoch: number,
    after: string,
    afterId: string,
    overlapMs: number,
    until: string,
    untilId: string,
    limit = 50_000,
  ): Promise<LearnedEventRef[]> {
    return this.sql<LearnedEventRef[]>`
      select e.id, e.persisted_at::text as "persistedAt"
      from events e
      where e.policy = ${policy} and e.epoch = ${epoch} and e.status = 'learned' and e.applied
        and e.kind in ('feedback', 'pairwise') and (e.persisted_at, e.id) > (${after}::text::timestamptz - ${overlapMs} * interval '1 millisecond', ${afterId})
        and (e.persisted_at, e.id) <= (${until}::text::timestamptz, ${untilId})
      order by e.persisted_at, e.id limit ${limit}`;
  }

  /** These learned rows of the policy epoch (those of `ids` that are learned), in the log's order. */
  byIds(policy: string, epoch: number, ids: readonly string[]): Promise<LearnedEventRow[]> {
    return this.sql<LearnedEventRow[]>`
      select e.id, e.kind, e.reward, d.context, d.arm_index as "armIndex", d.arms, d.created_at as "createdAt",
             e.persisted_at::text as "persistedAt"
      from events e join decisions d on d.id = e.decision_id
      where e.id = any(${ids as string[]}::text[]) and e.policy = ${policy} and e.epoch = ${epoch} and e.status = 'learned' and e.applied
        and e.kind in ('feedback', 'pairwise')
      order by e.persisted_at, e.id`;
  }
}
