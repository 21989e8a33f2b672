import type postgres from 'postgres';
import { fromBlob, toBlob } from '@app/store';
import { type Sql } from './db.js';

/** A connection or the transaction of PoliciesRepository.update (so the stats change with the policy's prior). */
type Queryable = Sql | postgres.TransactionSql;

/**
 * The statistics a policy keeps of its warm-start prior uploads (`policy_prior_stats`): per arm, the packed
 * additive statistics of the offline outcomes uploaded since the last replace. Read and written inside the
 * policy's row-locked update, so concurrent appends to one policy are serialised. Deleting the policy deletes them
 * (foreign key, on delete cascade).
 */
export class PriorStatsRepository {
  constructor(private readonly sql: Sql) {}

  async read(policy: string, tx: Queryable = this.sql): Promise<Map<string, Float64Array>> {
    const rows = await tx<{ arm: string; stats: Buffer }[]>`select arm, stats from policy_prior_stats where policy = ${policy}`;
    return new Map(rows.map((r) => [r.arm, fromBlob(r.stats)]));
  }

  /** Makes `stats` the stored statistics of `policy` (arms not in it lose theirs). */
  async replace(policy: string, stats: ReadonlyMap<string, Float64Array>, tx: Queryable = this.sql): Promise<void> {
    await tx`delete from policy_prior_stats where policy = ${policy}`;
    for (const [arm, v] of stats) await tx`insert into policy_prior_stats (policy, arm, stats) values (${policy}, ${arm}, ${toBlob(v)})`;
  }

  async clear(policy: string, tx: Queryable = this.sql): Promise<void> {
    await tx`delete from policy_prior_stats where policy = ${policy}`;
  }
}
