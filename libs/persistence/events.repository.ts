import { type EventKind } from '@app/contracts';
import { byIds, type Sql } from './db.js';
import { jsonRowsInIdOrder } from './json-rows.js';

export type { EventKind };
export type StoredStatus = 'learned' | 'late' | 'superseded' | 'stale' | 'model' | 'removed' | 'direct';

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
  /** The key that made a proxied or direct call (usage events). */
  keyId?: string | null;
}

/** What learning reads of a stored event row. */
export type StoredValues = Pick<EventRow, 'id' | 'kind' | 'decisionId' | 'arm' | 'reward' | 'joules' | 'latencyMs' | 'costUsd' | 'model' | 'receivedAt'>;

/** What Postgres holds of an event id: its status, whether its learning pass is done, and what it stored. */
export interface StoredFlags {
  status: StoredStatus;
  applied: boolean;
  /**
   * The stored row's values, where the row may not be the batch's own copy of the id (stored before: a retried job,
   * or another request that carried the same id; or an id the batch holds twice); null when this insert stored the
   * batch's only copy. Learning reads these, never a copy the log does not hold.
   */
  stored: StoredValues | null;
}

/** One key's calls of one model in a window (usageByKey). */
export interface KeyModelUsage {
  model: string;
  requests: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  energyJoules: number | null;
}

/** An event row as the positional array `insertMany` sends (jsonRowsInIdOrder; JSON numbers keep every float8 exactly). */
const rowTuple = (r: EventRow) => [
  r.id,
  r.kind,
  r.decisionId,
  r.policy,
  r.epoch,
  r.arm,
  r.status,
  r.reward,
  r.joules,
  r.inputTokens,
  r.outputTokens,
  r.latencyMs,
  r.costUsd ?? null,
  r.keyId ?? null,
  r.model,
  r.payload ?? null,
  r.receivedAt,
];

/** Where a page of readings ended: its last reading's instant and, to tell apart readings of one instant, its id. */
export interface ReadingsCursor {
  at: Date;
  id?: string;
}

/** Feedback and energy events, keyed by event id: the exactly-once record. */
export class EventsRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Inserts events not stored yet and returns, for every id of the batch, the stored row's status and whether
   * its learning pass is done. A retried job finds its row and carries on from there.
   */
  async insertMany(rows: readonly EventRow[]): Promise<Map<string, StoredFlags>> {
    if (rows.length === 0) return new Map();
    // A row's pass is open only when it has something to learn.
    const { ids, json } = jsonRowsInIdOrder(rows, rowTuple);
    const inserted = await this.sql<{ id: string; status: StoredStatus; applied: boolean }[]>`
      insert into events (id, kind, decision_id, policy, epoch, arm, status, reward, joules, input_tokens, output_tokens,
                          latency_ms, cost_usd, key_id, model, payload, received_at, applied)
      select r->>0, r->>1, r->>2, r->>3, (r->>4)::int, r->>5, r->>6, (r->>7)::float8, (r->>8)::float8, (r->>9)::int,
             (r->>10)::int, (r->>11)::float8, (r->>12)::float8, r->>13, r->>14, nullif(r->15, 'null'::jsonb),
             to_timestamp((r->>16)::float8 / 1000), r->>6 not in ('learned', 'model')
      from jsonb_array_elements(${json}::text::jsonb) as r
      on conflict (id) do nothing returning id, status, applied`;
    const seen = new Set<string>();
    const repeated = new Set<string>();
    for (const r of rows) (seen.has(r.id) ? repeated : seen).add(r.id);
    const out = new Map<string, StoredFlags>();
    for (const g of inserted) if (!repeated.has(g.id)) out.set(g.id, { status: g.status, applied: g.applied, stored: null });
    // Rows stored before (a retried job, or another copy of the id) and ids the batch holds more than once: read in
    // a statement of their own, only when there are any. (Within the insert's statement, a select would look every
    // id up again, and from a snapshot taken before rows that a concurrent insert of the same ids committed while
    // this one waited for it.)
    const check = out.size < ids.length ? [...seen].filter((id) => !out.has(id)) : [];
    if (check.length > 0)
      for (const g of await byIds(
        this.sql,
        check.length,
        (q) => q<(StoredValues & { status: StoredStatus; applied: boolean })[]>`
          select id, status, applied, kind, decision_id as "decisionId", arm, reward, joules, latency_ms as "latencyMs",
                 cost_usd as "costUsd", model, round(extract(epoch from received_at) * 1000)::float8 as "receivedAt"
          from events where id = any(${check})`,
      )) {
        const { status, applied, ...stored } = g;
        out.set(g.id, { status, applied, stored });
      }
    return out;
  }

  /** The joules stored on one event (the proxy's energy estimate on a usage event), or null. */
  async joulesOf(id: string): Promise<number | null> {
    const [r] = await this.sql<{ joules: number | null }[]>`select joules from events where id = ${id}`;
    return r?.joules ?? null;
  }

  /** The joules stored on each of `ids` (proxies' energy estimates on usage events), where stored and not null. */
  async joulesOfMany(ids: readonly string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await byIds(
      this.sql,
      ids.length,
      (q) => q<{ id: string; joules: number }[]>`select id, joules from events where id = any(${ids as string[]}) and joules is not null`,
    );
    return new Map(rows.map((r) => [r.id, r.joules]));
  }

  /**
   * Closes the learning pass: the applied ones keep their status, the others get their final one. One statement, so
   * its row locks are taken in one scan's order (two overlapping closes cannot deadlock).
   */
  async finish(applied: readonly string[], superseded: readonly string[], stale: readonly string[]): Promise<void> {
    const all = [...applied, ...superseded, ...stale];
    if (all.length === 0) return;
    await byIds(
      this.sql,
      all.length,
      (q) => q`
        update events set applied = true,
          status = case when id = any(${superseded as string[]}::text[]) then 'superseded'
                        when id = any(${stale as string[]}::text[]) then 'stale' else status end
        where id = any(${all}::text[])`,
    );
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

  /**
   * The median J per output token of each model's newest `newest` model-level readings (all models, or those
   * listed), with how many readings it rests on. A median: no single reading can move it far. Each model's newest
   * readings are read through `events_model_readings_recent` and no further, whatever its history.
   */
  async modelEnergyMedians(models: readonly string[] | null, newest: number): Promise<Map<string, { joulesPerOutputToken: number; readings: number }>> {
    const listed = models === null ? this.sql`(select distinct model from events where status = 'model')` : this.sql`unnest(${models as string[]}::text[])`;
    const rows = await this.sql<{ model: string; jpt: number; n: number }[]>`
      select m.model, percentile_cont(0.5) within group (order by r.jpt) as jpt, count(*)::int as n
      from ${listed} as m(model)
      cross join lateral (
        select joules / output_tokens as jpt
        from events
        where status = 'model' and model = m.model and output_tokens > 0
        order by received_at desc, id desc
        limit ${newest}
      ) r
      group by m.model`;
    return new Map(rows.map((r) => [r.model, { joulesPerOutputToken: r.jpt, readings: r.n }]));
  }

  /** Model-level readings, newest first (optionally of one model, older than `before`). */
  /**
   * Model-level readings, newest first (received_at, then id, descending); `before`: those after a page ending at
   * that instant (and, with its id, at that reading: readings received at the same instant come after it by id).
   */
  listModelReadings(model: string | undefined, limit: number, before?: ReadingsCursor) {
    const after =
      before === undefined
        ? this.sql``
        : before.id === undefined
          ? this.sql`and received_at < ${before.at}`
          : this.sql`and (received_at, id) < (${before.at}, ${before.id})`;
    return this.sql<{ id: string; model: string; joules: number; outputTokens: number; inputTokens: number | null; payload: unknown; receivedAt: Date }[]>`
      select id, model, joules, output_tokens as "outputTokens", input_tokens as "inputTokens", payload, received_at as "receivedAt"
      from events
      where status = 'model' ${model === undefined ? this.sql`` : this.sql`and model = ${model}`} ${after}
      order by received_at desc, id desc limit ${limit}`;
  }

  /** Takes a model-level reading out of the estimate (kept, as 'removed'); answers its model, or null if none. */
  async removeModelReading(id: string): Promise<string | null> {
    const [r] = await this.sql<{ model: string }[]>`update events set status = 'removed', applied = true where id = ${id} and status = 'model' returning model`;
    return r?.model ?? null;
  }

  /** Model-level readings whose estimate update is done. */
  async markModelReadingsApplied(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await byIds(this.sql, ids.length, (q) => q`update events set applied = true where id = any(${ids as string[]}) and status = 'model'`);
  }

  /**
   * One key's proxied and direct calls received in [from, to), summed per model: calls, calls every attempt of
   * which failed, tokens, cost (null when none had a price) and the energy estimate (null when none had one).
   */
  usageByKey(keyId: string, from: Date, to: Date) {
    return this.sql<KeyModelUsage[]>`
      select model, count(*)::int as requests,
             count(*) filter (where status = 'stale' or payload->>'answered' = 'false')::int as failed,
             coalesce(sum(input_tokens), 0)::float8 as "inputTokens", coalesce(sum(output_tokens), 0)::float8 as "outputTokens",
             sum(cost_usd) as "costUsd", sum(joules) as "energyJoules"
      from events
      where kind = 'usage' and key_id = ${keyId} and received_at >= ${from} and received_at < ${to}
      group by model order by model`;
  }

  /**
   * A policy epoch's events by status (direct calls and model-level readings have no policy: never counted here),
   * as the triggers of migration 013 keep them: a few rows read, however long the log.
   */
  async counts(policy: string, epoch: number): Promise<Record<Exclude<StoredStatus, 'direct'>, number>> {
    const rows = await this.sql<{ status: Exclude<StoredStatus, 'direct'>; n: number }[]>`
      select status, n::float8 as n from event_counts where policy = ${policy} and epoch = ${epoch}`;
    const out: Record<Exclude<StoredStatus, 'direct'>, number> = { learned: 0, late: 0, superseded: 0, stale: 0, model: 0, removed: 0 };
    for (const r of rows) out[r.status] = r.n;
    return out;
  }
}
