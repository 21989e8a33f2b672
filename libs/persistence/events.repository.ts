import { type Sql } from './db.js';

export type EventKind = 'feedback' | 'energy' | 'pairwise' | 'usage';
export type StoredStatus = 'learned' | 'late' | 'superseded' | 'stale' | 'model';

export interface EventRow {
  id: string;
  kind: EventKind;
  decisionId: string | null;
  policy: string | null;
  epoch: number | null;
  arm: string | null;
  status: StoredStatus;
  reward: number | null;
  joules: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  latencyMs: number | null;
  model: string | null;
  payload: unknown;
  receivedAt: number;
  costUsd?: number | null;
}

/** Feedback and energy events, keyed by event id: the exactly-once record. */
export class EventsRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Inserts events not stored yet and returns, for every id of the batch, the stored row's status and whether
   * its learning pass is done. A retried job finds its row and carries on from there.
   */
  async insertMany(rows: readonly EventRow[]): Promise<Map<string, { status: StoredStatus; applied: boolean }>> {
    if (rows.length === 0) return new Map();
    // Rows in id order: concurrent workers inserting overlapping batches then lock in the same order (no deadlock).
    const values = [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((r) => ({
      id: r.id,
      kind: r.kind,
      decision_id: r.decisionId,
      policy: r.policy,
      epoch: r.epoch,
      arm: r.arm,
      status: r.status,
      reward: r.reward,
      joules: r.joules,
      input_tokens: r.inputTokens,
      output_tokens: r.outputTokens,
      latency_ms: r.latencyMs,
      cost_usd: r.costUsd ?? null,
      model: r.model,
      payload: r.payload ?? null,
      received_at: new Date(r.receivedAt),
      applied: r.status !== 'learned' && r.status !== 'model',
    }));
    // One round trip: the rows this statement inserted (RETURNING) plus the ones stored before (the SELECT's
    // snapshot does not see the CTE's inserts).
    const ids = rows.map((r) => r.id);
    const got = await this.sql<{ id: string; status: StoredStatus; applied: boolean }[]>`
      with ins as (
        insert into events ${this.sql(values as never)} on conflict (id) do nothing returning id, status, applied
      )
      select id, status, applied from ins
      union all
      select id, status, applied from events where id = any(${ids})`;
    return new Map(got.map((g) => [g.id, { status: g.status, applied: g.applied }]));
  }

  /** The joules stored on one event (the proxy's energy estimate on a usage event), or null. */
  async joulesOf(id: string): Promise<number | null> {
    const [r] = await this.sql<{ joules: number | null }[]>`select joules from events where id = ${id}`;
    return r?.joules ?? null;
  }

  /** Closes the learning pass: the applied ones stay as they are, the others get their final status. */
  async finish(applied: readonly string[], superseded: readonly string[], stale: readonly string[]): Promise<void> {
    if (applied.length > 0) await this.sql`update events set applied = true where id = any(${applied as string[]})`;
    if (superseded.length > 0)
      await this.sql`update events set applied = true, status = 'superseded' where id = any(${superseded as string[]})`;
    if (stale.length > 0) await this.sql`update events set applied = true, status = 'stale' where id = any(${stale as string[]})`;
  }

  /** Streams one policy epoch's learned events joined with their decision's context (for rebuilds). */
  async *learnedForEpoch(policy: string, epoch: number, page = 5000) {
    let after = '';
    for (;;) {
      const rows = await this.sql<
        {
          id: string;
          kind: EventKind;
          decisionId: string;
          arm: string;
          reward: number | null;
          joules: number | null;
          latencyMs: number | null;
          costUsd: number | null;
          context: number[];
          applied: boolean;
          receivedAt: Date;
        }[]
      >`
        select e.id, e.kind, e.decision_id as "decisionId", e.arm, e.reward, e.joules, e.latency_ms as "latencyMs", e.cost_usd as "costUsd",
               d.context, e.applied, e.received_at as "receivedAt"
        from events e join decisions d on d.id = e.decision_id
        where e.policy = ${policy} and e.epoch = ${epoch} and e.status = 'learned' and e.id > ${after}
        order by e.id limit ${page}`;
      if (rows.length === 0) return;
      yield rows;
      after = rows[rows.length - 1].id;
    }
  }

  async markEpochApplied(policy: string, epoch: number): Promise<void> {
    await this.sql`update events set applied = true where policy = ${policy} and epoch = ${epoch} and status = 'learned' and not applied`;
  }

  /** Every reading that named a model and token counts but no decision (the per-model energy log). */
  modelReadings(): Promise<{ id: string; model: string; joules: number; outputTokens: number }[]> {
    return this.sql`
      select id, model, joules, output_tokens as "outputTokens" from events where status = 'model' order by id`;
  }

  async counts(policy: string, epoch: number): Promise<Record<StoredStatus, number>> {
    const rows = await this.sql<{ status: StoredStatus; n: number }[]>`
      select status, count(*)::int as n from events where policy = ${policy} and epoch = ${epoch} group by status`;
    const out: Record<StoredStatus, number> = { learned: 0, late: 0, superseded: 0, stale: 0, model: 0 };
    for (const r of rows) out[r.status] = r.n;
    return out;
  }
}
