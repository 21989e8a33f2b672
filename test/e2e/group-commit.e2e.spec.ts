import { jest } from '@jest/globals';
import { type Queue } from 'bullmq';
import { IngestService } from '../../apps/api/src/ingest/ingest.service.js';
import { client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';

type Env = Awaited<ReturnType<typeof freshEnvironment>>;

/**
 * Single feedback events arriving together are committed as groups: far fewer queued jobs than events, yet each
 * request gets its own answer (accepted, duplicate, 400 naming the field, 404) and every accepted event is learnt
 * exactly once.
 */
describe('group commit of single events', () => {
  let env: Env;
  let svc: Running;

  beforeAll(async () => {
    // A window long enough that the 63 requests sent at once arrive inside it even on a loaded machine (the
    // client shares this process's event loop with the api).
    env = await freshEnvironment('group_commit');
    svc = await startService(env, 1, { INGEST_GROUP_COMMIT_MS: '1000' });
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
    await env?.drop();
  });

  it('queues concurrent single events in few jobs, answers each on its own, learns each once', async () => {
    const c = client(svc.url);
    for (const m of ['m1', 'm2']) await c.put(`/admin/models/${m}`, {});
    await c.put('/admin/policies/gc', { algorithm: 'linucb', arms: ['m1', 'm2'], feedback: { aggregation: 'all' } });
    const decisions: string[] = [];
    for (let i = 0; i < 60; i++)
      decisions.push((await c.post('/v1/route', { policy: 'gc', input: `question ${i} about ${['maths', 'code', 'poems'][i % 3]}` })).body.decisionId);

    // The queue the intake writes to (the api's own instance).
    const intake: unknown = svc.api.get(IngestService, { strict: false });
    const { queue } = intake as { queue: Queue };
    const add = jest.spyOn(queue, 'add');
    const addBulk = jest.spyOn(queue, 'addBulk');
    let answers: Array<{ status: number; body: any }>;
    let jobs: number;
    try {
      answers = await Promise.all([
        ...decisions.map((decisionId, i) => c.post('/v1/feedback', { decisionId, eventId: `gc-${i}`, reward: (i % 5) / 4 })),
        c.post('/v1/feedback', { decisionId: decisions[0], eventId: 'gc-0', reward: 1 }),
        c.post('/v1/feedback', { decisionId: decisions[1], reward: 'high' }),
        c.post('/v1/feedback', { decisionId: 'dec_nosuchdecision', reward: 1 }),
      ]);
      jobs = add.mock.calls.length + addBulk.mock.calls.reduce((n, [bulk]) => n + bulk.length, 0);
    } finally {
      add.mockRestore();
      addBulk.mockRestore();
    }
    // 61 events reached the queue step (60 distinct + one duplicate caught there or in its group).
    expect(jobs).toBeGreaterThan(0);
    expect(jobs).toBeLessThanOrEqual(10);

    const accepted = answers.slice(0, 60);
    const [dup, bad, unknown] = answers.slice(60);
    // gc-0 was sent twice: one of the two is accepted, the other a duplicate (which one depends on arrival).
    const gc0 = [accepted[0], dup].map((a) => [a.status, a.body.status]).sort();
    expect(gc0).toEqual([
      [202, 'accepted'],
      [202, 'duplicate'],
    ]);
    for (const a of accepted.slice(1)) expect([a.status, a.body.status]).toEqual([202, 'accepted']);
    expect(accepted.slice(1).map((a) => a.body.eventId)).toEqual(decisions.slice(1).map((_, i) => `gc-${i + 1}`));
    expect([bad.status, bad.body.errors[0].path]).toEqual([400, 'reward']);
    expect(unknown.status).toBe(404);

    const stats = async () => (await c.get('/admin/policies/gc/stats')).body;
    await eventually(async () => (await stats()).feedback === 60, 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await stats()).feedback).toBe(60);
  }, 90_000);

  it('commits feedback and readings arriving together in one pass (a job per kind), and a refused event keeps no mark', async () => {
    const c = client(svc.url);
    await c.put('/admin/policies/gc2', { algorithm: 'linucb', arms: ['m1', 'm2'], feedback: { aggregation: 'all' } });
    const decisions: string[] = [];
    for (let i = 0; i < 10; i++) decisions.push((await c.post('/v1/route', { policy: 'gc2', input: `another question ${i}` })).body.decisionId);

    const intake: unknown = svc.api.get(IngestService, { strict: false });
    const { queue } = intake as { queue: Queue };
    const add = jest.spyOn(queue, 'add');
    const addBulk = jest.spyOn(queue, 'addBulk');
    let answers: Array<{ status: number; body: any }>;
    let calls: string[][];
    try {
      answers = await Promise.all([
        ...decisions.map((decisionId, i) => c.post('/v1/feedback', { decisionId, eventId: `mix-f${i}`, reward: 1 })),
        ...decisions.map((decisionId, i) => c.post('/v1/energy', { decisionId, eventId: `mix-e${i}`, joules: 10 + i })),
        // Refused by its decision check after its id was marked in the same round trip as the lookup.
        c.post('/v1/feedback', { decisionId: 'dec_nosuchdecision', eventId: 'mix-refused', reward: 1 }),
      ]);
      calls = [...add.mock.calls.map(([name]) => [name]), ...addBulk.mock.calls.map(([bulk]) => bulk.map((j) => j.name))];
    } finally {
      add.mockRestore();
      addBulk.mockRestore();
    }
    expect(answers.slice(0, 20).map((a) => [a.status, a.body.status])).toEqual(Array.from({ length: 20 }, () => [202, 'accepted']));
    expect(answers[20].status).toBe(404);
    // The requests after the first (which, after a quiet spell, closes its group at once) share one group: one
    // call with one job for each kind (the routes' decisions go through the same queue on their own).
    const eventCalls = calls.filter((names) => !names.includes('decisions')).map((names) => [...names].sort());
    expect(eventCalls.length).toBeLessThanOrEqual(2);
    expect(eventCalls).toContainEqual(['energy-batch', 'feedback-batch']);

    // The refused event's id was given back: the same id for a real decision is accepted, not a duplicate.
    const retry = await c.post('/v1/feedback', { decisionId: decisions[0], eventId: 'mix-refused', reward: 0 });
    expect([retry.status, retry.body.status]).toEqual([202, 'accepted']);
    const again = await c.post('/v1/feedback', { decisionId: decisions[0], eventId: 'mix-refused', reward: 0 });
    expect([again.status, again.body.status]).toEqual([202, 'duplicate']);

    const stats = async () => (await c.get('/admin/policies/gc2/stats')).body;
    await eventually(async () => {
      const s = await stats();
      return s.feedback === 11 && s.energyReadings === 10;
    }, 15_000);
  }, 60_000);
});
