import { createSql, DecisionsRepository, EventsRepository, type EventRow, type Sql } from '@app/persistence';
import { freshEnvironment } from '../support/harness.js';
import { decisionRecord, eventRow as ev, T } from '../support/rows.js';
const dec = decisionRecord;

// EventsRepository on a real Postgres: the exactly-once record (insert twice, retried jobs), the learning pass's
// final statuses, the rebuild's paged read, and model-level readings. (Energy medians and removal of readings are
// covered in readings-and-letters.spec.ts.)

describe('EventsRepository (real Postgres)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let sql: Sql;
  let sql2: Sql;
  let events: EventsRepository;

  beforeAll(async () => {
    env = await freshEnvironment('repo_events');
    sql = createSql(env.databaseUrl, 4);
    sql2 = createSql(env.databaseUrl, 4);
    events = new EventsRepository(sql);
  });
  afterAll(async () => {
    await sql.end();
    await sql2.end();
    await env.drop();
  });

  it('inserts new events with their pass still open only when there is something to learn', async () => {
    expect(await events.insertMany([])).toEqual(new Map());
    const res = await events.insertMany([
      ev('i-learned'),
      ev('i-late', { status: 'late' }),
      ev('i-stale', { kind: 'usage', status: 'stale' }),
      ev('i-model', { kind: 'energy', status: 'model', decisionId: null, policy: null, epoch: null, arm: null, model: 'm', joules: 10, outputTokens: 5 }),
    ]);
    expect(res).toEqual(
      new Map([
        ['i-learned', { status: 'learned', applied: false, stored: null }],
        ['i-late', { status: 'late', applied: true, stored: null }],
        ['i-stale', { status: 'stale', applied: true, stored: null }],
        ['i-model', { status: 'model', applied: false, stored: null }],
      ]),
    );
  });

  it('inserts a pass of 5,000 events in one statement (more values than a statement may have parameters)', async () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `big-${String(i).padStart(4, '0')}`);
    const res = await events.insertMany(ids.map((id, i) => ev(id, { payload: { winner: i % 2 === 0 ? 'a' : 'b' } })));
    expect(res.size).toBe(5000);
    const [n] = await sql<{ n: number }[]>`select count(*)::int as n from events where id like 'big-%'`;
    expect(n.n).toBe(5000);
    const odd = { winner: 'a "quoted" \\ back, {braces} ✓' };
    await events.insertMany([ev('big-odd', { payload: odd, reward: null, receivedAt: T + 7 })]);
    const [row] = await sql<
      { payload: unknown; reward: number | null; at: Date }[]
    >`select payload, reward, received_at as at from events where id = 'big-odd'`;
    expect(row).toEqual({ payload: odd, reward: null, at: new Date(T + 7) });
  });

  it("closes a batch's events in place: heap-only updates, no new index entries", async () => {
    // One connection throughout (a pool of one): pg_stat_force_next_flush flushes the calling backend's counts only.
    const one = createSql(env.databaseUrl, 1);
    try {
      const repo = new EventsRepository(one);
      const counts = async () => {
        await one`select pg_stat_force_next_flush()`;
        const [t] = await one<{ upd: number; hot: number }[]>`
          select n_tup_upd::int as upd, n_tup_hot_upd::int as hot from pg_stat_user_tables where relname = 'events'`;
        return t;
      };
      const ids = Array.from({ length: 500 }, (_, i) => `hot-${String(i).padStart(3, '0')}`);
      await repo.insertMany(ids.map((id) => ev(id)));
      const before = await counts();
      await repo.finish(ids, [], []);
      const after = await counts();
      expect(after.upd - before.upd).toBe(500);
      expect(after.hot - before.hot).toBe(500);
    } finally {
      await one.end();
    }
  });

  it('a second insert (a retried job, another copy of the id) keeps the stored row and answers what it holds', async () => {
    await events.insertMany([ev('x1'), ev('x2', { reward: 0.1 }), ev('x5', { kind: 'usage', costUsd: 0.002, latencyMs: 40, joules: 3, model: 'm' })]);
    await events.finish(['x1'], [], []);
    // A retried job, or another request with the same id and other contents: the first write stands, and is what
    // learning is given (never the copy at hand).
    const again = await events.insertMany([ev('x3'), ev('x2', { status: 'late', reward: 1 }), ev('x1', { decisionId: 'other' }), ev('x5')]);
    const stored = (id: string, extra: Partial<EventRow> = {}) => {
      const r = ev(id, extra);
      return {
        id,
        kind: r.kind,
        decisionId: r.decisionId,
        arm: r.arm,
        reward: r.reward,
        joules: r.joules,
        latencyMs: r.latencyMs,
        costUsd: r.costUsd ?? null,
        model: r.model,
        receivedAt: r.receivedAt,
      };
    };
    expect(again).toEqual(
      new Map([
        ['x3', { status: 'learned', applied: false, stored: null }],
        ['x2', { status: 'learned', applied: false, stored: stored('x2', { reward: 0.1 }) }],
        ['x1', { status: 'learned', applied: true, stored: stored('x1') }],
        ['x5', { status: 'learned', applied: false, stored: stored('x5', { kind: 'usage', costUsd: 0.002, latencyMs: 40, joules: 3, model: 'm' }) }],
      ]),
    );
    const rows = await sql<{ id: string; reward: number }[]>`select id, reward from events where id in ('x1', 'x2', 'x3') order by id`;
    expect(rows.map((r) => r.reward)).toEqual([0.5, 0.1, 0.5]);
    // The same id twice in one batch: one row, no error, and what it holds (whichever copy the insert kept).
    expect(await events.insertMany([ev('x4', { reward: 0 }), ev('x4', { status: 'late', reward: 1 })])).toEqual(
      new Map([['x4', { status: 'learned', applied: false, stored: stored('x4', { reward: 0 }) }]]),
    );
    expect(await sql`select 1 from events where id = 'x4'`).toHaveLength(1);
  });

  it('round-trips the measured columns (joules, tokens, latency, cost, payload, received time)', async () => {
    const at = T + 123;
    await events.insertMany([
      ev('u1', {
        kind: 'usage',
        joules: 12.5,
        inputTokens: 10,
        outputTokens: 20,
        latencyMs: 150.25,
        costUsd: 0.000123,
        model: 'm-a',
        payload: { ttftMs: 10, attempts: [] },
        receivedAt: at,
      }),
    ]);
    expect(await events.joulesOf('u1')).toBe(12.5);
    expect(await events.joulesOf('x1')).toBeNull(); // a row without joules
    expect(await events.joulesOf('missing')).toBeNull();
    const [row] = await sql`select * from events where id = 'u1'`;
    expect(row).toMatchObject({
      kind: 'usage',
      joules: 12.5,
      input_tokens: 10,
      output_tokens: 20,
      latency_ms: 150.25,
      cost_usd: 0.000123,
      model: 'm-a',
      payload: { ttftMs: 10, attempts: [] },
    });
    expect((row.received_at as Date).getTime()).toBe(at);
  });

  it('stores every float8 exactly as given and an absent payload as SQL null', async () => {
    const floats = [0.1 + 0.2, 1 / 3, 5e-324, 1.7976931348623157e308, -2.5e-17, 123456789.98765433];
    await events.insertMany(floats.map((x, i) => ev(`flt-${i}`, { reward: x, joules: x, latencyMs: x, costUsd: x, payload: null, keyId: 'key_1' })));
    const rows = await sql<{ id: string; reward: number; joules: number; latency: number; cost: number; nullPayload: boolean; keyId: string }[]>`
      select id, reward, joules, latency_ms as latency, cost_usd as cost, payload is null as "nullPayload", key_id as "keyId"
      from events where id like 'flt-%' order by id`;
    expect(rows.map((r) => [r.reward, r.joules, r.latency, r.cost])).toEqual(floats.map((x) => [x, x, x, x]));
    expect(rows.every((r) => r.nullPayload && r.keyId === 'key_1')).toBe(true);
  });

  it('finish closes the pass: applied stays as it is, superseded and stale get their final status', async () => {
    await events.insertMany([
      ev('f1', { policy: 'fin' }),
      ev('f2', { policy: 'fin' }),
      ev('f3', { policy: 'fin' }),
      ev('f4', { policy: 'fin' }),
      ev('f5', { policy: 'fin', status: 'late' }),
    ]);
    await events.finish(['f1'], ['f2'], ['f3']);
    await events.finish([], [], []);
    const flags = await events.insertMany(['f1', 'f2', 'f3', 'f4'].map((id) => ev(id)));
    expect(new Map([...flags].map(([id, { status, applied }]) => [id, { status, applied }]))).toEqual(
      new Map([
        ['f1', { status: 'learned', applied: true }],
        ['f2', { status: 'superseded', applied: true }],
        ['f3', { status: 'stale', applied: true }],
        ['f4', { status: 'learned', applied: false }],
      ]),
    );
    expect(await events.counts('fin', 1)).toEqual({ learned: 2, late: 1, superseded: 1, stale: 1, model: 0, removed: 0 });
    expect(await events.counts('fin', 2)).toEqual({ learned: 0, late: 0, superseded: 0, stale: 0, model: 0, removed: 0 });
  });

  it("learnedForEpoch streams one epoch's learned events in id order, joined with their decision's context", async () => {
    const decisions = new DecisionsRepository(sql);
    await decisions.insertMany([dec('rd1', [1, 2]), dec('rd2', [3, 4], { arm: 'b' })]);
    const r = (id: string, extra: Partial<EventRow>) => ev(id, { policy: 'rb', epoch: 1, decisionId: 'rd1', ...extra });
    await events.insertMany([
      r('l3', { reward: 0.3 }),
      r('l1', { reward: 0.1, receivedAt: T + 1 }),
      r('l2', { kind: 'energy', reward: null, joules: 7, latencyMs: 40, decisionId: 'rd2', arm: 'b' }),
      r('l4', { kind: 'usage', reward: null, costUsd: 0.01, latencyMs: 99, joules: 3 }),
      r('l5', { status: 'late' }),
      r('l6', { epoch: 2 }),
      r('l7', { policy: 'rb-other' }),
      r('l8', { decisionId: 'no-such-decision' }),
    ]);
    await events.finish(['l1'], ['l3'], []); // l3 superseded: no longer learned
    const pages = [];
    for await (const page of events.learnedForEpoch('rb', 1, 2)) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([2, 1]);
    const rows = pages.flat();
    expect(rows.map((x) => x.id)).toEqual(['l1', 'l2', 'l4']);
    expect(rows[0]).toEqual({
      id: 'l1',
      kind: 'feedback',
      decisionId: 'rd1',
      arm: 'a',
      reward: 0.1,
      joules: null,
      latencyMs: null,
      costUsd: null,
      context: [1, 2],
      applied: true,
      receivedAt: new Date(T + 1),
    });
    expect(rows[1]).toMatchObject({ kind: 'energy', decisionId: 'rd2', arm: 'b', joules: 7, latencyMs: 40, context: [3, 4], applied: false });
    expect(rows[2]).toMatchObject({ kind: 'usage', costUsd: 0.01, latencyMs: 99, joules: 3 });
    // markEpochApplied closes the pass of that epoch's learned events only.
    await events.markEpochApplied('rb', 1);
    const flags = await events.insertMany(['l2', 'l4', 'l5', 'l6', 'l7'].map((id) => ev(id)));
    expect([...flags].map(([id, f]) => [id, f.applied])).toEqual(
      expect.arrayContaining([
        ['l2', true],
        ['l4', true],
        ['l5', true],
        ['l6', false],
        ['l7', false],
      ]),
    );
  });

  it('lists model-level readings newest first (per model, before a time or a reading, limited); marks only those applied', async () => {
    const m = (id: string, model: string, dt: number) =>
      ev(id, {
        kind: 'energy',
        status: 'model',
        decisionId: null,
        policy: null,
        epoch: null,
        arm: null,
        model,
        joules: 1,
        outputTokens: 1,
        receivedAt: T + dt,
      });
    await events.insertMany([m('mr1', 'mx', 10), m('mr2', 'mx', 30), m('mr3', 'mx', 20), m('mr4', 'my', 40), m('mr0', 'mx', 30)]);
    expect((await events.listModelReadings('mx', 10)).map((r) => r.id)).toEqual(['mr2', 'mr0', 'mr3', 'mr1']); // ties: id desc
    expect((await events.listModelReadings('mx', 2)).map((r) => r.id)).toEqual(['mr2', 'mr0']);
    expect((await events.listModelReadings('mx', 10, { at: new Date(T + 30) })).map((r) => r.id)).toEqual(['mr3', 'mr1']);
    // Paging through readings of one instant: after the page that ended at mr2, the rest of its instant comes first.
    expect((await events.listModelReadings('mx', 2, { at: new Date(T + 30), id: 'mr2' })).map((r) => r.id)).toEqual(['mr0', 'mr3']);
    expect((await events.listModelReadings(undefined, 2)).map((r) => r.id)).toEqual(['mr4', 'mr2']);
    await events.markModelReadingsApplied(['mr1', 'x2']); // x2 is a learned feedback event: not a reading
    const flags = await events.insertMany([m('mr1', 'mx', 10), m('mr3', 'mx', 20), ev('x2')]);
    expect(flags.get('mr1')!.applied).toBe(true);
    expect(flags.get('mr3')!.applied).toBe(false);
    expect(flags.get('x2')!.applied).toBe(false);
  });

  // "Returns, for every id of the batch, the stored row's status": also for an id that a concurrent writer inserted
  // but had not committed when this insert started. The insert waits for that writer and skips the row (ON CONFLICT
  // DO NOTHING); a lookup inside the same statement would read a snapshot taken before that commit and miss it.
  it('reports every id of the batch even when a concurrent writer committed it meanwhile', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const isInserted = new Promise<void>((r) => (inserted = r));
    // Another worker's insert of c1, not committed yet.
    const other = sql2.begin(async (tx) => {
      await tx`insert into events (id, kind, status, received_at, applied) values ('c1', 'feedback', 'learned', now(), false)`;
      inserted();
      await gate;
    });
    await isInserted;
    const mine = events.insertMany([ev('c1'), ev('c2')]);
    for (let i = 0; i < 200; i++) {
      const [{ n }] = await sql2<
        { n: number }[]
      >`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
      if (n >= 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    release();
    await other;
    const res = await mine;
    expect(res.get('c2')).toEqual({ status: 'learned', applied: false, stored: null });
    // The other writer's row is another copy of c1 (no decision, no reward): what learning is given.
    expect(res.get('c1')).toEqual({
      status: 'learned',
      applied: false,
      stored: {
        id: 'c1',
        kind: 'feedback',
        decisionId: null,
        arm: null,
        reward: null,
        joules: null,
        latencyMs: null,
        costUsd: null,
        model: null,
        // When the other writer received it (its own clock), in whole milliseconds as the rows carry it.
        receivedAt: expect.any(Number),
      },
    });
    expect(Number.isInteger(res.get('c1')!.stored!.receivedAt)).toBe(true);
  });
});
