import { createRng } from '@app/bandits';
import { type Model } from '@app/contracts';
import { addToStartSample, budgetStartPrices, emptyStartSample } from '@app/learning';
import { fitReplayPrior, priorContexts, priorRecords, type RawRecord, ReplayPolicy } from '@app/replay';
import { uploadPrior } from '../../apps/replay/upload-prior.js';
import { client as replayClient } from '../../apps/replay/via-http.js';
import { ADMIN_KEY, client, freshEnvironment, type Running, startService } from '../support/harness.js';

/**
 * A warm-start prior uploaded in several calls (POST /admin/policies/{name}/prior with `append`) through the
 * running service: the calls add up to the prior of one call with every record, and replace, DELETE, reset,
 * a feature-space change and re-creating the policy treat the stored uploads as documented.
 */
describe('prior uploads that add up', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let admin: ReturnType<typeof client>;
  const ARMS = ['coder', 'mathy', 'writer'];

  beforeAll(async () => {
    env = await freshEnvironment('prior_append');
    svc = await startService(env, 1);
    admin = client(svc.url);
    for (const m of ARMS) expect((await admin.put(`/admin/models/${m}`, {})).status).toBe(200);
  });

  afterAll(async () => {
    await svc.close();
    await env.drop();
  });

  const PROMPTS = ['Write a Python function that reverses a list', 'Solve 3x + 7 = 22 for x', 'Write a short poem about autumn leaves'];
  /** Per-prompt records in the replay data schema; some incomplete, one with a model no policy has. */
  function dataset(n: number, seed: number): RawRecord[] {
    const rng = createRng(seed);
    return Array.from({ length: n }, (_, i) => {
      const task = rng.int(3);
      const outcomes: RawRecord['outcomes'] = {};
      ARMS.forEach((m, k) => {
        if (rng.next() < 0.9) outcomes[m] = { score: k === task ? 0.8 + 0.2 * rng.next() : 0.4 * rng.next() };
      });
      outcomes.stranger = { score: 1 };
      return { id: `r${i}`, task: String(task), prompt: `${PROMPTS[task]} (#${i})`, outcomes };
    });
  }
  const records = priorRecords(dataset(150, 3), ARMS);
  const prefs = [
    { input: 'Implement binary search in TypeScript', preferred: 'coder', other: 'writer' },
    { input: 'Compose song lyrics about the sea', preferred: 'writer', other: 'mathy', tie: true },
  ];
  const create = async (name: string, extra: Record<string, unknown> = {}) =>
    expect((await admin.put(`/admin/policies/${name}`, { algorithm: 'linucb', arms: ARMS, ...extra })).status).toBe(201);
  const post = async (name: string, body: unknown) => {
    const r = await admin.post(`/admin/policies/${name}/prior`, body);
    expect(r.status).toBe(200);
    return r.body;
  };

  it('chunks with append give exactly the prior of one call with all records (scores and preferences)', async () => {
    await create('whole');
    await create('chunked');
    const all = [...records.slice(0, 200), ...prefs, ...records.slice(200)];
    const whole = await post('whole', { records: all, maxWeight: 60 });
    const cuts = [0, 1, 150, 201, 203, all.length];
    let chunked: any;
    for (let i = 0; i + 1 < cuts.length; i++) chunked = await post('chunked', { records: all.slice(cuts[i], cuts[i + 1]), maxWeight: 60, append: i > 0 });
    expect(chunked.prior.arms).toEqual(whole.prior.arms);
    expect(chunked.prior.records).toBe(all.length);
    expect(whole.prior.arms.coder.weight).toBe(60);
    const audit = (await admin.get('/admin/policies/chunked/audit')).body.audit;
    expect(audit.filter((a: { action: string }) => a.action === 'prior')).toHaveLength(cuts.length - 1);
    // The policy registry copy holds the fitted prior only: d numbers per arm.
    expect(JSON.stringify((await admin.get('/admin/policies/chunked')).body).length).toBeLessThan(20_000);
  });

  it('the CLI uploader (chunks under the record and byte limits) installs the prior the replay fits in-process', async () => {
    await create('cli');
    const call = replayClient(svc.url, ADMIN_KEY);
    const sent: number[] = [];
    const after = await uploadPrior(call, 'cli', { records, maxWeight: 100, maxRecords: 100, maxBytes: 4_000 }, (c) => sent.push(c.records));
    expect(sent.length).toBeGreaterThan(4);
    expect(sent.reduce((s, n) => s + n, 0)).toBe(records.length);
    const local = fitReplayPrior(records, ARMS, 64, 100);
    expect(after.prior!.arms).toEqual(local.arms);
    expect(after.prior!.records).toBe(local.records);
  });

  it('without append a call replaces the uploads; DELETE removes them, so a later append starts afresh', async () => {
    await create('replace');
    const [a, b] = [records.slice(0, 100), records.slice(100, 180)];
    const onlyB = (await post('replace', { records: a })) && (await post('replace', { records: b }));
    await create('reference-b');
    const refB = await post('reference-b', { records: b });
    expect(onlyB.prior).toMatchObject({ records: b.length, arms: refB.prior.arms });
    expect((await admin.del('/admin/policies/replace/prior')).body.prior).toBeUndefined();
    const fresh = await post('replace', { records: b, append: true });
    expect(fresh.prior).toMatchObject({ records: b.length, arms: refB.prior.arms });
  });

  it('the uploads survive reset and a new epoch; a feature-space change drops the prior, and a re-created policy starts without', async () => {
    const [a, b] = [records.slice(0, 100), records.slice(100, 180)];
    await create('both');
    const both = await post('both', { records: [...a, ...b] });
    await create('life');
    await post('life', { records: a });
    expect((await admin.post('/admin/policies/life/reset')).status).toBe(200);
    expect((await admin.put('/admin/policies/life', { algorithm: 'lin-ts', arms: ARMS })).body.epoch).toBe(3);
    expect((await post('life', { records: b, append: true })).prior).toMatchObject({ records: 180, arms: both.prior.arms });

    const redim = await admin.put('/admin/policies/life', { algorithm: 'lin-ts', arms: ARMS, features: { source: 'builtin', dim: 32 } });
    expect(redim.body.prior).toBeUndefined();
    const at32 = await post('life', { records: b, append: true });
    expect(at32.prior.records).toBe(b.length);
    expect(at32.prior.arms.coder.theta).toHaveLength(32);
    expect(at32.prior.arms).toEqual(fitReplayPrior(b, ARMS, 32, 100).arms);

    expect((await admin.del('/admin/policies/life')).status).toBe(204);
    await create('life');
    expect((await admin.get('/admin/policies/life')).body.prior).toBeUndefined();
    expect((await post('life', { records: b, append: true })).prior.records).toBe(b.length);
  });

  it("a prior uploaded to a policy with a budget starts the budget's price where the prior's prompts would spend the limit", async () => {
    const PRICED: Record<string, Model> = {
      coder: { id: 'coder', enabled: true, pricing: { inputPerMTok: 1, outputPerMTok: 4 } },
      mathy: { id: 'mathy', enabled: true, pricing: { inputPerMTok: 3, outputPerMTok: 12 } },
      writer: { id: 'writer', enabled: true, pricing: { inputPerMTok: 10, outputPerMTok: 40 } },
    };
    for (const m of ARMS) expect((await admin.patch(`/admin/models/${m}`, { pricing: PRICED[m].pricing })).status).toBe(200);
    const limit = 3e-3;
    await create('paced', { budget: { costUsdPerRequest: limit } });
    const installed = await post('paced', { records, maxWeight: 100 });
    const started = installed.budgetSince.startPrices.costUsdPerRequest;
    // The same search in-process, on the replay's copy of the policy with the same registry, prior and sample.
    const local = new ReplayPolicy({
      algorithm: 'linucb',
      arms: ARMS,
      dim: 64,
      objective: { quality: 1, energy: 0, cost: 0, latency: 0 },
      params: {},
      models: new Map(ARMS.map((m) => [m, PRICED[m]])),
      prior: fitReplayPrior(records, ARMS, 64, 100),
      budget: { costUsdPerRequest: limit },
    });
    const sample = addToStartSample(emptyStartSample(), [...priorContexts(records, 64).values()], 64).contexts;
    const expected = budgetStartPrices(local.runtime, sample).costUsdPerRequest!;
    expect(expected).toBeGreaterThan(0);
    expect(started).toBeCloseTo(expected, 9);
    // Nothing spent yet: the price is the start price (stats, from the state the api compiles).
    const stats = (await admin.get('/admin/policies/paced/stats')).body;
    expect(stats.budgets).toEqual([expect.objectContaining({ budget: 'costUsdPerRequest', limit, requests: 0, startPrice: started, price: started })]);

    // Uploaded in many appending calls (the CLI keeps each prompt's records in one call): the same start.
    await create('paced-chunks', { budget: { costUsdPerRequest: limit } });
    const sent: number[] = [];
    const chunked = await uploadPrior(replayClient(svc.url, ADMIN_KEY), 'paced-chunks', { records, maxWeight: 100, maxRecords: 40 }, (c) =>
      sent.push(c.records),
    );
    expect(sent.length).toBeGreaterThan(5);
    expect(chunked.budgetSince!.startPrices!.costUsdPerRequest).toBeCloseTo(started, 12);

    // A budget set after the prior starts from the stored sample; an objective change or removing the prior drops it.
    await create('paced-later');
    expect((await post('paced-later', { records, maxWeight: 100 })).budgetSince).toBeUndefined();
    const later = await admin.patch('/admin/policies/paced-later/budget', { budget: { costUsdPerRequest: limit } });
    expect(later.body.budgetSince.startPrices.costUsdPerRequest).toBeCloseTo(started, 12);
    const moved = await admin.patch('/admin/policies/paced-later/objective', { cost: 0.1 });
    expect([moved.body.budgetSince.startPrices, moved.body.budgetSince.cost]).toEqual([undefined, later.body.budgetSince.cost]);
    expect((await admin.del('/admin/policies/paced/prior')).body.budgetSince.startPrices).toBeUndefined();
    const after = (await admin.get('/admin/policies/paced/stats')).body.budgets[0];
    expect([after.price, after.startPrice]).toEqual([0, undefined]);
  });

  it('rejects a bad append flag naming the field, and a chunk over the record limit', async () => {
    await create('strict-append');
    const bad = await admin.post('/admin/policies/strict-append/prior', { records: records.slice(0, 2), append: 'yes' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.errors)).toContain('append');
    const many = Array.from({ length: 10_001 }, () => ({ input: 'x', model: 'coder', score: 1 }));
    expect((await admin.post('/admin/policies/strict-append/prior', { records: many, append: true })).status).toBe(400);
    expect((await admin.get('/admin/policies/strict-append')).body.prior).toBeUndefined();
  });

  it('records that say what a call cost, took and how long it ran warm-start those heads too; a bad value is a 400 naming it', async () => {
    await create('measured');
    const spent = { coder: 0.01, mathy: 0.002, writer: 0.0005 } as Record<string, number>;
    const logged = records.map((r) => ({ ...r, costUsd: spent[r.model], energyJoules: 40, latencyMs: 900 }));
    const after = await post('measured', { records: logged });
    const local = fitReplayPrior(logged, ARMS, 64, 100);
    expect(after.prior.arms).toEqual(local.arms);
    for (const arm of ARMS) expect(Object.keys(after.prior.arms[arm].heads).sort()).toEqual(['cost', 'energy', 'latency']);
    const stats = (await admin.get('/admin/policies/measured/stats')).body;
    for (const a of stats.arms) expect(a.prior.heads).toEqual(['cost', 'energy', 'latency']);
    const route = await admin.post('/v1/route', { policy: 'measured', input: 'Write a Python function that sorts a list (#9999)' });
    expect(route.status).toBe(200);
    const predicted = Object.fromEntries(route.body.scores.map((c: { model: string; costUsd: number }) => [c.model, c.costUsd]));
    // The registry has no prices for these models: without the logged costs every prediction would be 0.
    for (const arm of ARMS) expect(predicted[arm] / spent[arm]).toBeGreaterThan(0.8);
    for (const arm of ARMS) expect(predicted[arm] / spent[arm]).toBeLessThan(1.2);

    for (const [field, value] of [
      ['costUsd', -1],
      ['costUsd', 'cheap'],
      ['energyJoules', null],
      ['latencyMs', 1e12],
    ] as const) {
      const bad = await admin.post('/admin/policies/measured/prior', { records: [logged[1], { ...logged[0], [field]: value }] });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual([`records.1.${field}`]);
    }
    // A log exported with numbers as strings: named by the score record's fields, not as a preference missing keys.
    const strings = { input: 'x', model: 'coder', score: '0.8', costUsd: '0.001', energyJoules: '12', latencyMs: '340' };
    const named = await admin.post('/admin/policies/measured/prior', { records: [strings] });
    expect(named.status).toBe(400);
    expect(named.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'records.0.costUsd',
      'records.0.energyJoules',
      'records.0.latencyMs',
      'records.0.score',
    ]);
    const pair = await admin.post('/admin/policies/measured/prior', { records: [{ input: 'x', preferred: 'coder', other: 'writer', tie: 'yes' }] });
    expect(pair.body.errors.map((e: { path: string }) => e.path)).toEqual(['records.0.tie']);
    // A record as near to both shapes as to either, or of neither, is named as a record, with what a record is.
    for (const odd of [{ input: 'x', model: 'coder', score: 1, preferred: 'coder', other: 'writer' }, { input: 'x' }]) {
      const res = await admin.post('/admin/policies/measured/prior', { records: [logged[1], odd] });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ path: 'records.1', message: expect.stringMatching(/either a score .* or a preference/) }]);
    }
    expect((await admin.get('/admin/policies/measured')).body.prior.arms).toEqual(local.arms);
  });
});
