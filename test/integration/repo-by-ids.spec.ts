import { BY_IDS_MIN, byIds, createSql, EventsRepository, type Sql } from '@app/persistence';
import { freshEnvironment } from '../support/harness.js';
import { eventRow as ev } from '../support/rows.js';

// Statements that name a pass's rows by an id list go through their index even where the planner, pricing an index
// probe as a disk read, would read the whole table (byIds). The control plan shows that this table is one where it
// would.

describe('id-list statements use the index (real Postgres)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let sql: Sql;
  const ids = Array.from({ length: 3000 }, (_, i) => `pick-${String(i * 7).padStart(6, '0')}`);
  const plan = async (q: Sql) => {
    const rows = await q.unsafe(`explain update events set applied = true where id = any($1)`, [ids]);
    return rows.map((r) => String(r['QUERY PLAN'])).join('\n');
  };

  beforeAll(async () => {
    env = await freshEnvironment('repo_by_ids');
    sql = createSql(env.databaseUrl, 2);
    const events = new EventsRepository(sql);
    for (let b = 0; b < 5; b++) await events.insertMany(Array.from({ length: 5000 }, (_, i) => ev(`pick-${String(b * 5000 + i).padStart(6, '0')}`)));
    await sql`analyze events`;
  });
  afterAll(async () => {
    await sql.end();
    await env.drop();
  });

  it('reads the whole table without it (the control), through the primary key with it', async () => {
    expect(await plan(sql)).toMatch(/Seq Scan on events/);
    const inside = await byIds(sql, ids.length, (q) => plan(q as Sql));
    expect(inside).not.toMatch(/Seq Scan/);
    expect(inside).toMatch(/events_pkey/);
    // The setting stays inside its transaction; a short list is looked up as it comes.
    expect(await plan(sql)).toMatch(/Seq Scan on events/);
    expect(await byIds(sql, BY_IDS_MIN - 1, (q) => q`show enable_seqscan`)).toEqual([{ enable_seqscan: 'on' }]);
    expect(await byIds(sql, BY_IDS_MIN, (q) => q`show enable_seqscan`)).toEqual([{ enable_seqscan: 'off' }]);
  });

  it("closes a large pass's events through the index, in one statement, each with its final status", async () => {
    // One connection (a pool of one): pg_stat_force_next_flush flushes the calling backend's counts only.
    const one = createSql(env.databaseUrl, 1);
    const seqScans = async () => {
      await one`select pg_stat_force_next_flush()`;
      const [t] = await one<{ n: number }[]>`select seq_scan::int as n from pg_stat_user_tables where relname = 'events'`;
      return t.n;
    };
    try {
      const before = await seqScans();
      await one.unsafe(`select count(*) from events where id = any($1)`, [ids]); // the control: a scan
      const afterControl = await seqScans();
      expect(afterControl - before).toBe(1);
      await new EventsRepository(one).finish(ids.slice(0, 2000), ids.slice(2000, 2500), ids.slice(2500));
      expect((await seqScans()) - afterControl).toBe(0);
    } finally {
      await one.end();
    }
    const rows = await sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from events where applied group by status order by status`;
    expect(rows).toEqual([
      { status: 'learned', n: 2000 },
      { status: 'stale', n: 500 },
      { status: 'superseded', n: 500 },
    ]);
  });
});
