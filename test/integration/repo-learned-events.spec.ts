import { createSql, DecisionsRepository, EventsRepository, LearnedEventsRepository, type LearnedEventRow, type Sql } from '@app/persistence';
import { freshEnvironment } from '../support/harness.js';
import { decisionRecord, eventRow as ev, T } from '../support/rows.js';
const dec = (id: string, extra: Parameters<typeof decisionRecord>[2] = {}) => decisionRecord(id, [0.25, -1], extra);

// LearnedEventsRepository.since on a real Postgres: which events count, the (persisted_at, id) cursor at full
// microsecond precision, the overlap window, and paging through rows that share one persisted_at.
const BASE = '2024-05-01 12:00:00';

describe('LearnedEventsRepository (real Postgres)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let sql: Sql;
  let events: EventsRepository;
  let learned: LearnedEventsRepository;
  const ids = (rows: LearnedEventRow[]) => rows.map((r) => r.id);
  /** Sets persisted_at exactly (µs), as commit order would. */
  const persistAt = (id: string, ts: string) => sql`update events set persisted_at = ${ts}::text::timestamptz where id = ${id}`; // via text: a timestamptz parameter would go through a JS Date (ms)

  beforeAll(async () => {
    env = await freshEnvironment('repo_learned');
    sql = createSql(env.databaseUrl, 2);
    events = new EventsRepository(sql);
    learned = new LearnedEventsRepository(sql);
    await new DecisionsRepository(sql).insertMany([dec('d1'), dec('d2', { mode: 'duel', arms: ['a', 'b'], armIndex: 0, x: [1, 2], createdAt: T + 7 })]);
  });
  afterAll(async () => {
    await sql.end();
    await env.drop();
  });

  it('returns only learnt, applied feedback and pairwise rows of the policy epoch, with their decision', async () => {
    await events.insertMany([
      ev('k1'),
      ev('k2', { kind: 'pairwise', decisionId: 'd2', reward: 1, payload: { winner: 'a' } }),
      ev('k3'), // learnt but its pass is not done yet
      ev('k4', { status: 'late' }),
      ev('k5', { kind: 'energy', reward: null, joules: 3 }),
      ev('k6', { epoch: 2 }),
      ev('k7', { policy: 'q' }),
      ev('k8'), // superseded below
    ]);
    await events.finish(['k1', 'k2', 'k5', 'k6', 'k7'], ['k8'], []);
    for (const id of ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8']) await persistAt(id, `${BASE}.000001+00`);
    const rows = await learned.since('p', 1, '1970-01-01T00:00:00Z', '', 0);
    expect(ids(rows)).toEqual(['k1', 'k2']);
    expect(rows[0]).toEqual({
      id: 'k1',
      kind: 'feedback',
      reward: 0.5,
      context: [0.25, -1],
      armIndex: 0,
      arms: null,
      createdAt: new Date(T),
      persistedAt: expect.stringContaining('.000001'),
    });
    expect(rows[1]).toMatchObject({ kind: 'pairwise', reward: 1, context: [1, 2], arms: ['a', 'b'], createdAt: new Date(T + 7) });
    await events.finish(['k3'], [], []);
    expect(ids(await learned.since('p', 1, '1970-01-01T00:00:00Z', '', 0))).toEqual(['k1', 'k2', 'k3']);
  });

  /** Reads everything after the start, page by page, as SequentialStateService does (at most `max` pages). */
  const readAll = async (policy: string, limit: number, max = 10) => {
    const seen: string[] = [];
    let after = '1970-01-01T00:00:00Z';
    let afterId = '';
    for (let i = 0; i < max; i++) {
      const page = await learned.since(policy, 1, after, afterId, 0, limit);
      if (page.length === 0) break;
      seen.push(...ids(page));
      after = page[page.length - 1].persistedAt;
      afterId = page[page.length - 1].id;
    }
    return { seen, after, afterId };
  };

  it('pages by (persisted_at, id): rows sharing one persisted_at are split by id, none read twice or skipped', async () => {
    const rows = ['s1', 's2', 's3', 's4', 's5', 's6', 's7'];
    await events.insertMany(rows.map((id) => ev(id, { policy: 'pg' })));
    await events.finish(rows, [], []);
    // s1..s5 committed by one statement (one persisted_at); s6 and s7 later.
    for (const id of rows.slice(0, 5)) await persistAt(id, `${BASE}.123000+00`);
    await persistAt('s6', `${BASE}.124000+00`);
    await persistAt('s7', `${BASE}.200000+00`);
    const { seen, after, afterId } = await readAll('pg', 2);
    expect(seen).toEqual(rows);
    expect(await learned.since('pg', 1, after, afterId, 0)).toEqual([]);
  });

  // A parameter typed timestamptz goes through a JS Date in postgres.js (.123456 becomes .123000): the cursor is
  // sent as text so that a page ending inside a millisecond moves on instead of returning its rows forever.
  it('keeps the cursor at microsecond precision: a page ending inside a millisecond moves on', async () => {
    const rows = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];
    await events.insertMany(rows.map((id) => ev(id, { policy: 'us' })));
    await events.finish(rows, [], []);
    for (const id of rows.slice(0, 5)) await persistAt(id, `${BASE}.123456+00`);
    await persistAt('u6', `${BASE}.123457+00`);
    await persistAt('u7', `${BASE}.123999+00`);
    const { seen, after, afterId } = await readAll('us', 2);
    expect(seen).toEqual(rows); // today: [u1, u2, u1, u2, ...] until the page budget runs out
    expect(after).toContain('.123999');
    expect(await learned.since('us', 1, after, afterId, 0)).toEqual([]);
  });

  it('re-reads the rows of the last `overlapMs` before the cursor (rows commit out of order)', async () => {
    const rows = ['o1', 'o2', 'o3'];
    await events.insertMany(rows.map((id) => ev(id, { policy: 'ov' })));
    await events.finish(rows, [], []);
    await persistAt('o1', `${BASE}.000000+00`);
    await persistAt('o2', `${BASE}.005000+00`);
    await persistAt('o3', `${BASE}.020000+00`);
    const [last] = (await learned.since('ov', 1, '1970-01-01T00:00:00Z', '', 0)).slice(-1);
    expect(last.id).toBe('o3');
    expect(ids(await learned.since('ov', 1, last.persistedAt, last.id, 0))).toEqual([]);
    expect(ids(await learned.since('ov', 1, last.persistedAt, '', 16))).toEqual(['o2', 'o3']); // 20 ms − 16 ms = 4 ms < 5 ms
    expect(ids(await learned.since('ov', 1, last.persistedAt, '', 25))).toEqual(['o1', 'o2', 'o3']);
    // A cursor written with another time zone means the same instant.
    expect(ids(await learned.since('ov', 1, '2024-05-01T14:00:00.005+02:00', 'o2', 0))).toEqual(['o3']);
  });

  it('looks back by ids only, and reads the rows it misses by id (learnt ones of the policy epoch only)', async () => {
    const rows = ['b1', 'b2', 'b3', 'b4'];
    await events.insertMany([...rows.map((id) => ev(id, { policy: 'lb' })), ev('b5', { policy: 'lb', epoch: 2 }), ev('b6', { policy: 'other' })]);
    await events.finish(['b1', 'b2', 'b3', 'b5', 'b6'], [], []); // b4: its pass is not done
    await persistAt('b1', `${BASE}.000000+00`);
    await persistAt('b2', `${BASE}.005000+00`);
    await persistAt('b3', `${BASE}.020000+00`);
    const end = `${BASE}.020000+00`;
    const refs = await learned.refsBetween('lb', 1, end, '', 16, end, 'b3');
    expect(refs.map((r) => r.id)).toEqual(['b2', 'b3']);
    expect(refs[0].persistedAt).toContain('.005');
    expect(Object.keys(refs[0]).sort()).toEqual(['id', 'persistedAt']);
    expect((await learned.refsBetween('lb', 1, `${BASE}.000000+00`, 'b1', 0, end, 'b3')).map((r) => r.id)).toEqual(['b2', 'b3']);
    // bounded above by the reader's cursor: rows after it are the next poll's
    expect((await learned.refsBetween('lb', 1, end, '', 25, `${BASE}.005000+00`, 'b2')).map((r) => r.id)).toEqual(['b1', 'b2']);
    const got = await learned.byIds('lb', 1, ['b3', 'b1', 'b4', 'b5', 'b6', 'nope']);
    expect(ids(got)).toEqual(['b1', 'b3']); // in the log's order; not learnt yet, other epochs and policies left out
    expect(got[0]).toMatchObject({ kind: 'feedback', context: [0.25, -1], armIndex: 0 });
    expect(await learned.byIds('lb', 1, [])).toEqual([]);
  });
});
