import { type Policy, type PolicyConfig } from '@app/contracts';
import { type Sql } from './db.js';

interface Row {
  name: string;
  config: PolicyConfig;
  version: number;
  epoch: number;
  updatedAt: Date;
}
const toPolicy = (r: Row): Policy => ({ ...r.config, name: r.name, version: r.version, epoch: r.epoch, updatedAt: r.updatedAt.toISOString() });

export type AuditAction = 'create' | 'replace' | 'objective' | 'revert' | 'budget' | 'reset' | 'rebuild' | 'delete' | 'prior';

/** Policies and their audit trail; every change is written in the same transaction as its audit row. */
export class PoliciesRepository {
  constructor(private readonly sql: Sql) {}

  async get(name: string): Promise<Policy | null> {
    const [r] = await this.sql<Row[]>`
      select name, config, version, epoch, updated_at as "updatedAt" from policies where name = ${name}`;
    return r ? toPolicy(r) : null;
  }

  async list(): Promise<Policy[]> {
    const rows = await this.sql<Row[]>`
      select name, config, version, epoch, updated_at as "updatedAt" from policies order by name`;
    return rows.map(toPolicy);
  }

  /**
   * Creates or replaces a policy. `resetState` (a change of algorithm or feature space) starts a new epoch, so
   * the old statistics are neither used nor folded by a rebuild.
   */
  async put(
    name: string,
    config: PolicyConfig,
    actor: string,
    resetState: (before: PolicyConfig) => boolean,
  ): Promise<{ policy: Policy; created: boolean; epochChanged: boolean }> {
    return this.sql.begin(async (tx) => {
      // `for update` locks nothing while the row does not exist: two creates of one name are serialised here.
      await tx`select pg_advisory_xact_lock(hashtext(${`policy:${name}`}))`;
      const [before] = await tx<Row[]>`
        select name, config, version, epoch, updated_at as "updatedAt" from policies where name = ${name} for update`;
      const epochChanged = before !== undefined && resetState(before.config);
      // A name used before (deleted since) starts after its last epoch, so the old policy's logged decisions
      // and events are never folded into the new one.
      const [{ first }] = before
        ? [{ first: 1 }]
        : await tx<{ first: number }[]>`
            select 1 + greatest(
              coalesce((select max((before->>'epoch')::int) from policy_audit where policy = ${name} and action = 'delete'), 0),
              coalesce((select max(epoch) from decisions where policy = ${name}), 0)) as first`;
      const [row] = await tx<Row[]>`
        insert into policies (name, config, version, epoch) values (${name}, ${tx.json(config)}, 1, ${first})
        on conflict (name) do update set config = excluded.config, version = policies.version + 1,
          epoch = policies.epoch + ${epochChanged ? 1 : 0}, updated_at = now()
        returning name, config, version, epoch, updated_at as "updatedAt"`;
      await this.audit(tx, name, before ? 'replace' : 'create', actor, before ? toPolicy(before) : null, toPolicy(row));
      return { policy: toPolicy(row), created: before === undefined, epochChanged };
    });
  }

  /**
   * Applies `change` to the stored config under a row lock, bumps the version (and epoch if asked), audits. `change`
   * gets the transaction too, for rows that must change with the config (the prior's upload statistics).
   */
  async update(
    name: string,
    actor: string,
    action: AuditAction,
    change: (c: PolicyConfig, tx: postgres.TransactionSql) => PolicyConfig | Promise<PolicyConfig>,
    bumpEpoch = false,
  ): Promise<Policy | null> {
    return this.sql.begin(async (tx) => {
      const [before] = await tx<Row[]>`
        select name, config, version, epoch, updated_at as "updatedAt" from policies where name = ${name} for update`;
      if (!before) return null;
      const next = await change(before.config, tx);
      const [row] = await tx<Row[]>`
        update policies set config = ${tx.json(next)}, version = version + 1,
          epoch = epoch + ${bumpEpoch ? 1 : 0}, updated_at = now()
        where name = ${name}
        returning name, config, version, epoch, updated_at as "updatedAt"`;
      await this.audit(tx, name, action, actor, toPolicy(before), toPolicy(row));
      return toPolicy(row);
    });
  }

  async delete(name: string, actor: string): Promise<boolean> {
    return this.sql.begin(async (tx) => {
      const [before] = await tx<Row[]>`
        delete from policies where name = ${name} returning name, config, version, epoch, updated_at as "updatedAt"`;
      if (!before) return false;
      await this.audit(tx, name, 'delete', actor, toPolicy(before), null);
      return true;
    });
  }

  async recordAudit(name: string, action: AuditAction, actor: string, detail: unknown): Promise<void> {
    await this.audit(this.sql, name, action, actor, null, detail);
  }

  /**
   * Moves a policy on the built-in featurizer to another featurizer version: its statistics and prior were learnt
   * in the old feature space, so it starts a new epoch, records the version and drops its prior and the prior's
   * uploads (audited as a reset by `actor`). Null when the policy is not built-in or already has that version or
   * a newer one (only forward: during a rolling deploy an older build never moves a policy back), so concurrent
   * replicas upgrade each policy once.
   */
  async upgradeFeaturizer(name: string, version: number, actor: string): Promise<Policy | null> {
    return this.sql.begin(async (tx) => {
      const [before] = await tx<Row[]>`
        select name, config, version, epoch, updated_at as "updatedAt" from policies where name = ${name} for update`;
      if (!before || before.config.features.source !== 'builtin' || (before.config.features.version ?? 1) >= version) return null;
      const { prior: _prior, ...rest } = before.config as PolicyConfig & { prior?: unknown };
      const next: PolicyConfig = { ...rest, features: { ...before.config.features, version } };
      const [row] = await tx<Row[]>`
        update policies set config = ${tx.json(next)}, version = version + 1, epoch = epoch + 1, updated_at = now()
        where name = ${name}
        returning name, config, version, epoch, updated_at as "updatedAt"`;
      await tx`delete from policy_prior_stats where policy = ${name}`;
      await this.audit(tx, name, 'reset', actor, toPolicy(before), toPolicy(row));
      return toPolicy(row);
    });
  }

  auditTrail(name: string, limit = 100) {
    return this.sql<{ id: string; action: AuditAction; actor: string; before: unknown; after: unknown; at: Date }[]>`
      select id::text as id, action, actor, before, after, at from policy_audit where policy = ${name}
      order by policy_audit.id desc limit ${limit}`;
  }

  /** One audit entry of a policy (null when the id is not one of its entries). */
  /**
   * One audit entry of the policy, with whether it belongs to an earlier policy of that name (one deleted after it
   * was written).
   */
  async auditEntry(name: string, id: string): Promise<{ action: AuditAction; before: Policy | null; after: Policy | null; earlier: boolean } | null> {
    const [row] = await this.sql<{ action: AuditAction; before: Policy | null; after: Policy | null; earlier: boolean }[]>`
      select action, before, after,
             exists (select 1 from policy_audit d where d.policy = a.policy and d.action = 'delete' and d.id > a.id) as earlier
      from policy_audit a where policy = ${name} and id = ${id}`;
    return row ?? null;
  }

  private async audit(tx: Sql | postgres.TransactionSql, name: string, action: AuditAction, actor: string, before: unknown, after: unknown) {
    await tx`insert into policy_audit (policy, action, actor, before, after)
             values (${name}, ${action}, ${actor}, ${before === null ? null : tx.json(before as never)}, ${after === null ? null : tx.json(after as never)})`;
  }
}
import type postgres from 'postgres';
