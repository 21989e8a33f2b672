import { type DecisionRecord } from '@app/contracts';
import { createSql, DecisionsRepository, type EpochDecisionRow, EventsRepository, type EventRow, SettledDecisions, type Sql } from '@app/persistence';
import { freshEnvironment } from '../support/harness.js';

// DecisionsRepository on a real Postgres: idempotent inserts with applied flags, the estimates fill-in of bare
// rows, paging for rebuilds, and the default-reward candidates.
const T = 1_700_000_000_123;
const dec = (id: string, extra: Partial<DecisionRecord> = {}): DecisionRecord => ({
  id,
  policy: 'p',
  epoch: 1,
  policyVersion: 3,
  arm: 'b',
  armIndex: 1,
  propensity: 0.1 + 0.2,
  x: [0.1, -1e-300, 1 / 3, 2 ** 53 + 2],
  estimates: [
    { arm: 'a', score: 0.25, energyJ: 3 },
    { arm: 'b', score: 0.75, energyJ: 1 },
  ],
  owner: 'tenant',
  mode: 'single',
  createdAt: T,
  ...extra,
});
const feedback = (id: string, decisionId: string, status: EventRow['status'], kind: EventRow['kind'] = 'feedback'): EventRow => ({
  id,
  kind,
  decisionId,
  policy: 'u',
  epoch: 1,
  arm: 'a',
  status,
  reward: kind === 'feedback' ? 1 : null,
  joules: kind === 'energy' ? 5 : null,
  inputTokens: null,
  outputTokens: null,
  latencyMs: null,
  model: null,
  payload: null,
  receivedAt: T,
});

describe('DecisionsRepository (real Postgres)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let sql: Sql;
  let repo: DecisionsRepository;

  beforeAll(async () => {
    env = await freshEnvironment('repo_decisions');
    sql = createSql(env.databaseUrl, 4);
    repo = new DecisionsRepository(sql);
  });
  afterAll(async () => {
    await sql.end();
    await env.drop();
  });

  it('stores decisions once and round-trips every field exactly', async () => {
    expect(await repo.insertMany([])).toEqual(new Map());
    const duel = dec('r2', { mode: 'duel', arms: ['b', 'a'] });
    expect(await repo.insertMany([dec('r1'), duel])).toEqual(
      new Map([
        ['r1', false],
        ['r2', false],
      ]),
    );
    expect(await repo.insertMany([dec('r1'), duel, dec('r3')])).toEqual(
      new Map([
        ['r1', false],
        ['r2', false],
        ['r3', false],
      ]),
    );
    expect(await sql`select 1 from decisions where id like 'r%'`).toHaveLength(3);
    const got = await repo.getMany(['r1', 'r2', 'nope']);
    expect(got.size).toBe(2);
    expect(got.get('r1')).toEqual({ ...dec('r1'), applied: false });
    expect(got.get('r2')).toEqual({ ...duel, applied: false });
    expect('arms' in got.get('r1')!).toBe(false);
    expect(await repo.getMany([])).toEqual(new Map());
  });

  it('markApplied sets the flag of the listed ids only; insertMany then reports it', async () => {
    await repo.insertMany([dec('a1'), dec('a2'), dec('a3')]);
    await repo.markApplied(['a1', 'a3', 'missing']);
    await repo.markApplied([]);
    expect(await repo.insertMany([dec('a1'), dec('a2'), dec('a3'), dec('a4')])).toEqual(
      new Map([
        ['a1', true],
        ['a2', false],
        ['a3', true],
        ['a4', false],
      ]),
    );
    expect((await repo.getMany(['a1'])).get('a1')!.applied).toBe(true);
  });

  it('fills in the estimates of a row first written bare (from a hot copy), never overwrites full ones', async () => {
    await repo.insertMany([dec('b1', { estimates: [] }), dec('b2')]);
    await repo.markApplied(['b1']);
    const later = [{ arm: 'b', score: 0.9 }];
    expect(await repo.insertMany([dec('b1'), dec('b2', { estimates: later })])).toEqual(
      new Map([
        ['b1', true],
        ['b2', false],
      ]),
    );
    const got = await repo.getMany(['b1', 'b2']);
    expect(got.get('b1')).toEqual({ ...dec('b1'), applied: true }); // filled, flag kept
    expect(got.get('b2')!.estimates).toEqual(dec('b2').estimates); // the first full copy stays
    // A bare copy arriving after a full one changes nothing either.
    await repo.insertMany([dec('b2', { estimates: [] })]);
    expect((await repo.getMany(['b2'])).get('b2')!.estimates).toEqual(dec('b2').estimates);
  });

  it('remembers decisions found stored in full and applied, and answers them without a lookup', async () => {
    const settled = new SettledDecisions();
    await repo.insertMany([dec('s1'), dec('s2', { estimates: [] }), dec('s3'), dec('s4')]);
    await repo.markApplied(['s1', 's2', 's4']);
    // s1 and s4: applied and full; s2: applied but bare (a full copy must still fill it); s3: not applied.
    expect(await repo.insertMany([dec('s1'), dec('s2', { estimates: [] }), dec('s3'), dec('s4')], settled)).toEqual(
      new Map([
        ['s1', true],
        ['s2', true],
        ['s3', false],
        ['s4', true],
      ]),
    );
    expect(['s1', 's2', 's3', 's4'].map((id) => settled.has(id))).toEqual([true, false, false, true]);
    // A remembered id is answered from memory: one not stored at all proves no query and no insert ran for it.
    settled.add('ghost');
    expect(await repo.insertMany([dec('ghost'), dec('s4')], settled)).toEqual(
      new Map([
        ['ghost', true],
        ['s4', true],
      ]),
    );
    expect(await repo.getMany(['ghost'])).toEqual(new Map());
    // The bare row is still filled in by its full copy.
    await repo.insertMany([dec('s2')], settled);
    expect((await repo.getMany(['s2'])).get('s2')!.estimates).toEqual(dec('s2').estimates);
  });

  it('concurrent overlapping batches (4 pools, shuffled) all succeed and store each decision once', async () => {
    const pools = Array.from({ length: 4 }, () => createSql(env.databaseUrl, 2));
    try {
      const ids = Array.from({ length: 300 }, (_, i) => `c${String(i).padStart(3, '0')}`);
      const batches = pools.map((_, w) => {
        const mine = ids.filter((_, i) => (i + w) % 4 !== 0); // each id in 3 of the 4 batches
        for (let i = mine.length - 1; i > 0; i--) {
          const j = (i * 7919 + w * 104729) % (i + 1);
          [mine[i], mine[j]] = [mine[j], mine[i]];
        }
        return mine.map((id) => dec(id, { policy: 'conc' }));
      });
      const res = await Promise.all(pools.map((pool, w) => new DecisionsRepository(pool).insertMany(batches[w])));
      res.forEach((m, w) => expect(m.size).toBe(batches[w].length));
      const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from decisions where policy = 'conc'`;
      expect(n).toBe(300);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('forEpoch streams one policy epoch in id order, page by page', async () => {
    const ids = ['f05', 'f01', 'f07', 'f03', 'f02', 'f06', 'f04'];
    await repo.insertMany([
      ...ids.map((id, i) => dec(id, { policy: 'fe', epoch: 2, arm: `arm${i}`, x: [i] })),
      dec('f00', { policy: 'fe', epoch: 1 }),
      dec('f08', { policy: 'fe-other', epoch: 2 }),
      dec('f09', { policy: 'fe', epoch: 2, mode: 'duel', arms: ['x', 'y'], x: [9] }),
    ]);
    const pages: EpochDecisionRow[][] = [];
    for await (const page of repo.forEpoch('fe', 2, 3)) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
    expect(pages.flat().map((r) => r.id)).toEqual(['f01', 'f02', 'f03', 'f04', 'f05', 'f06', 'f07', 'f09']);
    expect(pages[0][0]).toEqual({ id: 'f01', arm: 'arm1', arms: null, context: [1], applied: false, createdAt: new Date(T) });
    expect(pages[2][1]).toEqual({ id: 'f09', arm: 'b', arms: ['x', 'y'], context: [9], applied: false, createdAt: new Date(T) });
    const none: unknown[] = [];
    for await (const page of repo.forEpoch('fe', 3)) none.push(page);
    expect(none).toEqual([]);
  });

  it('unansweredClosed: single decisions closed before the cut-off without learnt or superseded feedback, oldest first', async () => {
    const cut = new Date(T + 100_000);
    const u = (id: string, dt: number, extra: Partial<DecisionRecord> = {}) => dec(id, { policy: 'u', createdAt: T + dt, ...extra });
    await repo.insertMany([
      u('u1', 10_000), // no feedback at all
      u('u2', 20_000), // learnt thumb
      u('u3', 30_000), // superseded thumb (another one was learnt)
      u('u4', 5_000), // only a late thumb: does not count
      u('u5', 40_000, { mode: 'duel', arms: ['a', 'b'] }), // not single
      u('u6', 100_000), // window closes at the cut-off, not before
      u('u7', 50_000), // an energy reading is not feedback
      u('u8', 1_000, { epoch: 2 }), // another epoch
      u('u9', 60_000), // its default reward stored, its pass not finished: due again
      u('u10', 70_000), // its default reward applied
    ]);
    await new EventsRepository(sql).insertMany([
      feedback('e2', 'u2', 'learned'),
      feedback('e3', 'u3', 'superseded'),
      feedback('e4', 'u4', 'late'),
      feedback('e7', 'u7', 'learned', 'energy'),
      feedback('default:u9', 'u9', 'learned'),
      feedback('default:u10', 'u10', 'learned'),
    ]);
    await new EventsRepository(sql).finish(['default:u10'], [], []);
    const all = await repo.unansweredClosed('u', 1, cut, 100);
    expect(all.map((r) => r.id)).toEqual(['u4', 'u1', 'u7', 'u9']);
    expect(all[0].createdAt).toEqual(new Date(T + 5_000));
    expect((await repo.unansweredClosed('u', 1, cut, 2)).map((r) => r.id)).toEqual(['u4', 'u1']);
  });

  it('markEpochApplied marks one policy epoch only', async () => {
    await repo.insertMany([dec('m1', { policy: 'me' }), dec('m2', { policy: 'me', epoch: 2 }), dec('m3', { policy: 'me-other' })]);
    await repo.markEpochApplied('me', 1);
    const got = await repo.getMany(['m1', 'm2', 'm3']);
    expect([got.get('m1')!.applied, got.get('m2')!.applied, got.get('m3')!.applied]).toEqual([true, false, false]);
  });

  it('loggedOutcomes: the earliest learnt reward, the learnt readings summed, the first learnt cost and latency, the candidates in order', async () => {
    const o = (id: string, dt: number) =>
      dec(id, {
        policy: 'lo',
        createdAt: T + dt,
        estimates: [
          { model: 'c', score: 0.1 },
          { model: 'a', score: 0.2 },
          { model: 'b', score: 0.3 },
        ],
      });
    await repo.insertMany([o('lo1', 10), o('lo2', 20), o('lo3', 30)]);
    const ev = (id: string, decisionId: string, status: EventRow['status'], kind: EventRow['kind'], at: number, extra: Partial<EventRow> = {}): EventRow => ({
      ...feedback(id, decisionId, status, kind),
      policy: 'lo',
      receivedAt: T + at,
      ...extra,
    });
    await new EventsRepository(sql).insertMany([
      ev('lo1-late-thumb', 'lo1', 'late', 'feedback', 1, { reward: 0 }),
      ev('lo1-thumb-2', 'lo1', 'learned', 'feedback', 300, { reward: 0.25 }),
      ev('lo1-thumb-1', 'lo1', 'learned', 'feedback', 200, { reward: 0.5 }),
      ev('lo1-j1', 'lo1', 'learned', 'energy', 100, { joules: 3, latencyMs: 40 }),
      ev('lo1-j2', 'lo1', 'learned', 'energy', 400, { joules: 4.5 }),
      ev('lo1-j3', 'lo1', 'superseded', 'energy', 50, { joules: 100 }),
      ev('lo1-usage', 'lo1', 'learned', 'usage', 500, { costUsd: 0.002, latencyMs: 900 }),
      ev('lo2-usage', 'lo2', 'learned', 'usage', 10, { costUsd: 0.001, latencyMs: 700 }),
      ev('lo2-j', 'lo2', 'late', 'energy', 20, { joules: 9 }),
    ]);
    const got = await repo.loggedOutcomes('lo', 1, new Date(T), new Date(T + 1000), 10);
    expect(
      got.map(({ arm, propensity, candidates, reward, joules, costUsd, latencyMs }) => ({ arm, propensity, candidates, reward, joules, costUsd, latencyMs })),
    ).toEqual([
      { arm: 'b', propensity: 0.1 + 0.2, candidates: ['c', 'a', 'b'], reward: null, joules: null, costUsd: null, latencyMs: null },
      { arm: 'b', propensity: 0.1 + 0.2, candidates: ['c', 'a', 'b'], reward: null, joules: null, costUsd: 0.001, latencyMs: 700 },
      { arm: 'b', propensity: 0.1 + 0.2, candidates: ['c', 'a', 'b'], reward: 0.5, joules: 7.5, costUsd: 0.002, latencyMs: 40 },
    ]);
    expect(got[2].context).toEqual([0.1, -1e-300, 1 / 3, 2 ** 53 + 2]);
    expect((await repo.loggedOutcomes('lo', 1, new Date(T), new Date(T + 1000), 2)).length).toBe(2);
  });

  it("keeps a fallback decision's pick; off-policy evaluation reads only decisions answered by their pick", async () => {
    const fb = dec('fb1', { policy: 'ope', arm: 'a', armIndex: 0, fallbackFrom: 'b' });
    await repo.insertMany([dec('fb0', { policy: 'ope' }), fb]);
    expect((await repo.getMany(['fb1'])).get('fb1')).toEqual({ ...fb, applied: false });
    expect('fallbackFrom' in (await repo.getMany(['fb0'])).get('fb0')!).toBe(false);
    const logged = await repo.loggedOutcomes('ope', 1, new Date(T - 1000), new Date(T + 1000), 10);
    expect(logged.map((r) => r.arm)).toEqual(['b']);
  });
});
