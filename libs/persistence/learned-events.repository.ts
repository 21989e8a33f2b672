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

/**
 * The learned quality log one policy epoch's order-dependent algorithms replay (FGTS.CDB duel records and thumbs,
 * TI-UCB observations): events whose learning pass closed as "learned", with their decision's context and arms.
 * Read incrementally by persisted_at with an overlap (rows commit out of order); callers dedupe by id.
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
}
