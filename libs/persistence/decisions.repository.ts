import { DEFAULT_REWARD_PREFIX, type DecisionCascade, type DecisionRecord } from '@app/contracts';
import { byIds, type Sql } from './db.js';
import { jsonRowsInIdOrder } from './json-rows.js';
import { type SettledDecisions } from './settled-decisions.js';

interface Row {
  id: string;
  policy: string;
  epoch: number;
  policyVersion: number;
  arm: string;
  armIndex: number;
  propensity: number;
  context: number[];
  estimates: DecisionRecord['estimates'];
  owner: string;
  mode: string;
  arms: string[] | null;
  fallbackFrom: string | null;
  cascade: DecisionCascade | null;
  createdAt: Date;
  applied: boolean;
}
const toRecord = (r: Row): DecisionRecord & { applied: boolean } => ({
  id: r.id,
  policy: r.policy,
  epoch: r.epoch,
  policyVersion: r.policyVersion,
  arm: r.arm,
  armIndex: r.armIndex,
  propensity: r.propensity,
  x: r.context,
  estimates: r.estimates,
  owner: r.owner,
  mode: r.mode,
  ...(r.arms ? { arms: r.arms } : {}),
  ...(r.fallbackFrom ? { fallbackFrom: r.fallbackFrom } : {}),
  ...(r.cascade ? { cascade: r.cascade } : {}),
  createdAt: r.createdAt.getTime(),
  applied: r.applied,
});

/**
 * A decision as the positional array `insertMany` sends (jsonRowsInIdOrder). The context goes as a float8[] literal: each number's
 * shortest text that reads back as the same double.
 */
const decisionTuple = (r: DecisionRecord) => [
  r.id,
  r.policy,
  r.epoch,
  r.policyVersion,
  r.arm,
  r.armIndex,
  r.propensity,
  `{${r.x.join(',')}}`,
  r.estimates,
  r.owner,
  r.mode,
  r.arms ?? null,
  r.fallbackFrom ?? null,
  r.cascade ?? null,
  r.createdAt,
];

/** The durable decision log (context, arm, propensity, policy version, estimates): what OPE and rebuilds read. */
export class DecisionsRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Makes sure every decision is stored and returns each id's applied flag. Looks the ids up first and writes
   * only the missing rows (feedback batches join decisions that are mostly stored already; re-sending their
   * 64-float contexts would dominate the worker's cost). Ids in `settled` are not looked up (applied); those found
   * stored in full and applied are added to it.
   */
  async insertMany(recs: readonly DecisionRecord[], settled?: SettledDecisions): Promise<Map<string, boolean>> {
    const flags = new Map<string, boolean>();
    const open: DecisionRecord[] = [];
    for (const r of recs)
      if (settled?.has(r.id)) flags.set(r.id, true);
      else open.push(r);
    if (open.length === 0) return flags;
    const known = await byIds(
      this.sql,
      open.length,
      (q) => q<{ id: string; applied: boolean; bare: boolean }[]>`
      select id, applied, estimates = '[]'::jsonb as bare from decisions where id = any(${open.map((r) => r.id)})`,
    );
    for (const k of known) {
      flags.set(k.id, k.applied);
      if (k.applied && !k.bare) settled?.add(k.id);
    }
    const bare = new Set(known.filter((k) => k.bare).map((k) => k.id));
    const missing = open.filter((r) => !flags.has(r.id) || (bare.has(r.id) && r.estimates.length > 0));
    if (missing.length === 0) return flags;
    for (const [id, applied] of await this.write(missing)) flags.set(id, applied);
    return flags;
  }

  private async write(recs: readonly DecisionRecord[]): Promise<Map<string, boolean>> {
    // A row first written from a hot copy (feedback joined before the decision batch arrived) has no estimates; the
    // batch's copy fills them in.
    const { json } = jsonRowsInIdOrder(recs, decisionTuple);
    await this.sql`
      insert into decisions (id, policy, epoch, policy_version, arm, arm_index, propensity, context, estimates, owner, mode, arms,
                             fallback_from, cascade, created_at)
      select r->>0, r->>1, (r->>2)::int, (r->>3)::int, r->>4, (r->>5)::int, (r->>6)::float8, (r->>7)::float8[], r->8, r->>9, r->>10,
             case when jsonb_typeof(r->11) = 'array' then array(select jsonb_array_elements_text(r->11)) end,
             r->>12, nullif(r->13, 'null'::jsonb), to_timestamp((r->>14)::float8 / 1000)
      from jsonb_array_elements(${json}::text::jsonb) as r
      on conflict (id) do update set estimates = excluded.estimates
      where decisions.estimates = '[]'::jsonb and excluded.estimates <> '[]'::jsonb`;
    const ids = recs.map((r) => r.id);
    const flags = await byIds(
      this.sql,
      ids.length,
      (q) => q<{ id: string; applied: boolean }[]>`
      select id, applied from decisions where id = any(${ids})`,
    );
    return new Map(flags.map((f) => [f.id, f.applied]));
  }

  async markApplied(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await byIds(this.sql, ids.length, (q) => q`update decisions set applied = true where id = any(${ids as string[]}) and not applied`);
  }

  async getMany(ids: readonly string[]): Promise<Map<string, DecisionRecord & { applied: boolean }>> {
    if (ids.length === 0) return new Map();
    const rows = await byIds(
      this.sql,
      ids.length,
      (q) => q<Row[]>`
      select id, policy, epoch, policy_version as "policyVersion", arm, arm_index as "armIndex", propensity,
             context, estimates, owner, mode, arms, fallback_from as "fallbackFrom", cascade, created_at as "createdAt", applied
      from decisions where id = any(${ids as string[]})`,
    );
    return new Map(rows.map((r) => [r.id, toRecord(r)]));
  }

  /** Streams one policy epoch's decisions in id order, in pages (for rebuilds). */
  async *forEpoch(policy: string, epoch: number, page = 5000): AsyncGenerator<EpochDecisionRow[]> {
    let after = '';
    for (;;) {
      const rows = await this.sql<EpochDecisionRow[]>`
        select id, arm, arms, context, applied, created_at as "createdAt" from decisions
        where policy = ${policy} and epoch = ${epoch} and id > ${after} order by id limit ${page}`;
      if (rows.length === 0) return;
      yield rows;
      after = rows[rows.length - 1].id;
    }
  }

  /**
   * Decisions of a policy epoch whose feedback window closed before `closedBefore` without timely feedback (a
   * late thumb is stored but not learnt, so it does not count): the candidates for the default reward. A decision
   * whose only feedback is its default reward, stored but not yet applied (a sweep's pass that stopped after
   * storing it), is one again: sweeping it again finishes that pass (the event id is the same). A decision stored
   * without its context (a proxied call no model answered, an embeddings fallback) teaches nothing: not one.
   */
  async unansweredClosed(policy: string, epoch: number, closedBefore: Date, limit: number) {
    return this.sql<{ id: string; createdAt: Date }[]>`
      select d.id, d.created_at as "createdAt" from decisions d
      where d.policy = ${policy} and d.epoch = ${epoch} and d.created_at < ${closedBefore} and d.mode = 'single'
        and cardinality(d.context) > 0
        and not exists (select 1 from events e where e.decision_id = d.id and e.kind = 'feedback' and e.status in ('learned', 'superseded')
                          and (e.applied or e.id <> ${DEFAULT_REWARD_PREFIX} || d.id))
      order by d.created_at limit ${limit}`;
  }

  async markEpochApplied(policy: string, epoch: number): Promise<void> {
    await this.sql`update decisions set applied = true where policy = ${policy} and epoch = ${epoch} and not applied`;
  }

  /**
   * Single decisions of a policy epoch in [since, until), newest first, with what was realised after them: the
   * earliest learnt reward, the learnt energy readings' sum, and the cost and latency of the answering call (null
   * where nothing arrived), and the models each chose among. What off-policy evaluation reads: decisions answered by
   * a fallback are left out (their model was not drawn with the logged propensity).
   *
   * Each decision's events are read once, through their decision's index only (every other condition is a filter
   * of the aggregates): with a condition on `status` in the lookup, Postgres may combine the decision's index with a
   * partial index of the policy's learnt events, reading all of them for every decision (seconds for a few thousand).
   */
  loggedOutcomes(policy: string, epoch: number, since: Date, until: Date, limit: number): Promise<LoggedOutcomeRow[]> {
    return this.sql<LoggedOutcomeRow[]>`
      select d.context, d.arm, d.propensity,
        array(select x.e->>'model' from jsonb_array_elements(d.estimates) with ordinality x(e, i) order by x.i) as candidates,
        o.reward, o.joules, o."costUsd", o."latencyMs"
      from decisions d
      cross join lateral (
        select
          (array_agg(e.reward order by e.received_at, e.id) filter (where e.learned and e.kind = 'feedback'))[1] as reward,
          sum(e.joules) filter (where e.learned and e.kind = 'energy') as joules,
          (array_agg(e.cost_usd order by e.received_at, e.id) filter (where e.learned and e.cost_usd is not null))[1] as "costUsd",
          (array_agg(e.latency_ms order by e.received_at, e.id) filter (where e.learned and e.latency_ms is not null))[1] as "latencyMs"
        from (select ev.*, ev.status = 'learned' as learned from events ev where ev.decision_id = d.id offset 0) e
      ) o
      where d.policy = ${policy} and d.epoch = ${epoch} and d.mode = 'single' and d.fallback_from is null
        and d.created_at >= ${since} and d.created_at < ${until}
      order by d.created_at desc limit ${limit}`;
  }
}

/** A decision as a rebuild folds it. */
export interface EpochDecisionRow {
  id: string;
  arm: string;
  arms: string[] | null;
  context: number[];
  applied: boolean;
  createdAt: Date;
}

export interface LoggedOutcomeRow {
  context: number[];
  arm: string;
  propensity: number;
  /** The models the decision chose among, as its estimates list them. */
  candidates: string[];
  reward: number | null;
  joules: number | null;
  costUsd: number | null;
  latencyMs: number | null;
}
