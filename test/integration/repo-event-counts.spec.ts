import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import postgres from 'postgres';
import { createSql, EventsRepository, type Sql } from '@app/persistence';
import { migrate } from '../../scripts/migrate.js';
import { freshEnvironment } from '../support/harness.js';
import { eventRow as ev } from '../support/rows.js';

// A policy epoch's events by status, as stats read them: kept by triggers in the writing statements' transactions
// (migration 013), always equal to counting the rows, and filled in from the rows already there by the migration.

/** What counting the rows answers, for comparison. */
async function counted(sql: Sql, policy: string, epoch: number) {
  const rows = await sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from events where policy = ${policy} and epoch = ${epoch} group by status`;
  const out: Record<string, number> = { learned: 0, late: 0, superseded: 0, stale: 0, model: 0, removed: 0 };
  for (const r of rows) out[r.status] = r.n;
  return out;
}

describe('event counts (real Postgres)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let sql: Sql;
  let events: EventsRepository;

  beforeAll(async () => {
    env = await freshEnvironment('event_counts');
    sql = createSql(env.databaseUrl, 4);
    events = new EventsRepository(sql);
  });
  afterAll(async () => {
    await sql.end();
    await env.drop();
  });

  it('follow inserts, retried inserts, closes that change a status, and deletes', async () => {
    const p = { policy: 'c', epoch: 3 };
    await events.insertMany([ev('c1', p), ev('c2', p), ev('c3', p), ev('c4', { ...p, status: 'late' }), ev('c5', { ...p, epoch: 4 })]);
    // A retried insert counts nothing again; a model-level reading and a direct call have no policy.
    await events.insertMany([ev('c1', p), ev('c2', { ...p, status: 'late' })]);
    await events.insertMany([
      ev('m1', { kind: 'energy', status: 'model', decisionId: null, policy: null, epoch: null, arm: null, model: 'm', joules: 1, outputTokens: 5 }),
      ev('u1', { kind: 'usage', status: 'direct', decisionId: null, policy: null, epoch: null, arm: null, model: 'm' }),
    ]);
    expect(await events.counts('c', 3)).toEqual({ learned: 3, late: 1, superseded: 0, stale: 0, model: 0, removed: 0 });
    // Closing a pass: applied only (no count moves), then statuses that move one count each.
    await events.finish(['c1'], ['c2'], ['c3']);
    await events.markEpochApplied('c', 3);
    expect(await events.counts('c', 3)).toEqual({ learned: 1, late: 1, superseded: 1, stale: 1, model: 0, removed: 0 });
    expect(await events.counts('c', 3)).toEqual(await counted(sql, 'c', 3));
    expect(await events.counts('c', 4)).toEqual(await counted(sql, 'c', 4));
    expect(await events.removeModelReading('m1')).toBe('m');
    await sql`delete from events where id in ('c4', 'c5')`;
    expect(await events.counts('c', 3)).toEqual({ learned: 1, late: 0, superseded: 1, stale: 1, model: 0, removed: 0 });
    expect(await events.counts('c', 4)).toEqual(await counted(sql, 'c', 4));
    expect(await events.counts('nobody', 1)).toEqual({ learned: 0, late: 0, superseded: 0, stale: 0, model: 0, removed: 0 });
  });

  it('stay exact under concurrent writers of the same policy (8 pools, overlapping batches)', async () => {
    const pools = Array.from({ length: 8 }, () => createSql(env.databaseUrl, 2));
    try {
      const ids = Array.from({ length: 2000 }, (_, i) => `k${i}`);
      await Promise.all(
        pools.map((pool, w) => {
          const repo = new EventsRepository(pool);
          // Each writer inserts an overlapping slice, then supersedes a part of what it wrote.
          const mine = ids.slice(w * 200, w * 200 + 400).map((id, i) => ev(id, { policy: 'k', status: i % 5 === 0 ? 'late' : 'learned' }));
          return repo.insertMany(mine).then(() =>
            repo.finish(
              [],
              mine.slice(0, 20).map((r) => r.id),
              [],
            ),
          );
        }),
      );
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
    expect(await events.counts('k', 1)).toEqual(await counted(sql, 'k', 1));
    const total = Object.values(await events.counts('k', 1)).reduce((a, b) => a + b, 0);
    expect(total).toBe(1800);
  });

  it('are emptied with the table (truncate)', async () => {
    await sql`truncate events`;
    expect(await events.counts('k', 1)).toEqual({ learned: 0, late: 0, superseded: 0, stale: 0, model: 0, removed: 0 });
    expect(await sql`select 1 from event_counts`).toHaveLength(0);
  });
});

describe('migration 013 (event counts)', () => {
  it('counts the events already stored when it is applied', async () => {
    const env = await freshEnvironment('counts_migration');
    const before = mkdtempSync(join(tmpdir(), 'migrations-'));
    // A second database migrated only up to 012, with events in it; then the rest.
    const url = new URL(env.databaseUrl);
    const name = `${url.pathname.slice(1)}_old`;
    const admin = postgres(env.databaseUrl, { max: 1, onnotice: () => undefined });
    await admin.unsafe(`create database ${name}`);
    url.pathname = `/${name}`;
    const old = createSql(url.toString(), 2);
    try {
      const all = resolve('migrations');
      for (const f of readdirSync(all).filter((f) => f < '013')) cpSync(join(all, f), join(before, f));
      await migrate(url.toString(), before, () => undefined);
      await new EventsRepository(old).insertMany([ev('o1'), ev('o2'), ev('o3', { status: 'late' }), ev('o4', { epoch: 2 })]);
      await migrate(url.toString(), undefined, () => undefined);
      const repo = new EventsRepository(old);
      expect(await repo.counts('p', 1)).toEqual({ learned: 2, late: 1, superseded: 0, stale: 0, model: 0, removed: 0 });
      await repo.insertMany([ev('o5')]);
      expect(await repo.counts('p', 1)).toEqual(await counted(old, 'p', 1));
      expect(await repo.counts('p', 2)).toEqual(await counted(old, 'p', 2));
    } finally {
      await old.end();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
      rmSync(before, { recursive: true, force: true });
      await env.drop();
    }
  });
});
