import { jest } from '@jest/globals';
import { type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ownedEventId, type Principal } from '@app/contracts';
import { DecisionHotStore } from '@app/store';
import { IngestService } from '../../apps/api/src/ingest/ingest.service.js';
import { WorkerProtocol } from '../../apps/api/src/ingest/worker-protocol.service.js';
import { client, eventually, freshEnvironment, REDIS_URL, type Running, startService } from '../support/harness.js';

/** The bootstrap admin key's principal (what `client` sends). */
const ADMIN_PRINCIPAL: Principal = { keyId: 'bootstrap', owner: 'admin', scope: 'admin', policies: null };

type Env = Awaited<ReturnType<typeof freshEnvironment>>;

/**
 * A connection named as a BullMQ worker of an earlier version names its connection (the queue's client name, no
 * declared protocol): what the api sees of such a worker in Redis's client list. It takes no job.
 */
async function olderWorkerConnection(queue: Queue): Promise<Redis> {
  const r = new Redis(REDIS_URL);
  await r.client('SETNAME', (queue as unknown as { clientName(): string }).clientName());
  return r;
}

type Client = ReturnType<typeof client>;

/** A fresh policy of two arms that learns every event, and `n` decisions it routed. */
async function policyWithDecisions(c: Client, policy: string, n: number, input: (i: number) => string): Promise<string[]> {
  await c.put(`/admin/policies/${policy}`, { algorithm: 'linucb', arms: ['m1', 'm2'], feedback: { aggregation: 'all' } });
  const decisions: string[] = [];
  for (let i = 0; i < n; i++) decisions.push((await c.post('/v1/route', { policy, input: input(i) })).body.decisionId);
  return decisions;
}

/** Feedback and a reading for each decision (ids `${prefix}-f<i>`, `${prefix}-e<i>`), submitted in the same turn of the event loop, so they share a group. */
function sendTogether(intake: IngestService, decisions: string[], prefix: string) {
  return Promise.all([
    ...decisions.map((decisionId, i) => intake.one('feedback', ADMIN_PRINCIPAL, { decisionId, eventId: `${prefix}-f${i}`, reward: 1 })),
    ...decisions.map((decisionId, i) => intake.one('energy', ADMIN_PRINCIPAL, { decisionId, eventId: `${prefix}-e${i}`, joules: 5 + i })),
  ]);
}

/** The policy's learnt feedback events and energy readings. */
async function learnt(c: Client, policy: string): Promise<[number, number]> {
  const s = (await c.get(`/admin/policies/${policy}/stats`)).body;
  return [s.feedback, s.energyReadings];
}

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
    const decisions = await policyWithDecisions(c, 'gc', 60, (i) => `question ${i} about ${['maths', 'code', 'poems'][i % 3]}`);

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

    await eventually(async () => (await learnt(c, 'gc'))[0] === 60, 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await learnt(c, 'gc'))[0]).toBe(60);
  }, 90_000);

  it('commits feedback and readings arriving together in one pass and one job, and a refused event keeps no mark', async () => {
    const c = client(svc.url);
    const decisions = await policyWithDecisions(c, 'gc2', 10, (i) => `another question ${i}`);

    const intake = svc.api.get(IngestService, { strict: false });
    const { queue } = intake as unknown as { queue: Queue };
    // The service's worker declares that it takes jobs of several kinds.
    expect(await svc.api.get(WorkerProtocol, { strict: false }).refresh()).toBe(2);
    const add = jest.spyOn(queue, 'add');
    const addBulk = jest.spyOn(queue, 'addBulk');
    let answers: Awaited<ReturnType<IngestService['one']>>[];
    let calls: string[][];
    try {
      // Submitted in the same turn of the event loop, so they share a group whatever the timing.
      answers = await sendTogether(intake, decisions, 'mix');
      calls = [...add.mock.calls.map(([name]) => [name]), ...addBulk.mock.calls.map(([bulk]) => bulk.map((j) => j.name))];
    } finally {
      add.mockRestore();
      addBulk.mockRestore();
    }
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 20 }, () => 'accepted'));
    // One group: one call, one job carrying both kinds (the routes' decisions go through the same queue on their own).
    expect(calls.filter((names) => !names.includes('decisions'))).toEqual([['events-batch']]);

    // An event refused by its decision check was marked in the same round trip as the lookup: the mark is given
    // back, so the id is free for a real decision.
    const refused = await c.post('/v1/feedback', { decisionId: 'dec_nosuchdecision', eventId: 'mix-refused', reward: 1 });
    expect(refused.status).toBe(404);
    const hot = svc.api.get(DecisionHotStore, { strict: false });
    const redis = new Redis(REDIS_URL);
    try {
      expect(await redis.exists(hot.keys.eventSeen(ownedEventId(ADMIN_PRINCIPAL.owner, 'mix-refused')))).toBe(0);
      // The id of an accepted event keeps its mark, confirmed.
      expect(await redis.get(hot.keys.eventSeen(ownedEventId(ADMIN_PRINCIPAL.owner, 'mix-f0')))).toBe('q');
    } finally {
      await redis.quit();
    }
    const retry = await c.post('/v1/feedback', { decisionId: decisions[0], eventId: 'mix-refused', reward: 0 });
    expect([retry.status, retry.body.status]).toEqual([202, 'accepted']);
    const again = await c.post('/v1/feedback', { decisionId: decisions[0], eventId: 'mix-refused', reward: 0 });
    expect([again.status, again.body.status]).toEqual([202, 'duplicate']);

    await eventually(async () => (await learnt(c, 'gc2')).join() === '11,10', 15_000);
  }, 60_000);

  it('sends a job per kind while a worker of an earlier version is connected, and one job again once it is gone', async () => {
    const c = client(svc.url);
    const decisions = await policyWithDecisions(c, 'gc4', 3, (i) => `older ${i}`);
    const intake = svc.api.get(IngestService, { strict: false });
    const protocol = svc.api.get(WorkerProtocol, { strict: false });
    const { queue } = intake as unknown as { queue: Queue };
    const jobNames = async (round: string) => {
      const addBulk = jest.spyOn(queue, 'addBulk');
      try {
        await sendTogether(intake, decisions, round);
        return addBulk.mock.calls.map(([bulk]) => bulk.map((j) => j.name).sort()).filter((names) => !names.includes('decisions'));
      } finally {
        addBulk.mockRestore();
      }
    };
    const older = await olderWorkerConnection(queue);
    try {
      expect(await protocol.refresh()).toBe(0);
      expect(await jobNames('old')).toEqual([['energy-batch', 'feedback-batch']]);
    } finally {
      await older.quit();
    }
    expect(await protocol.refresh()).toBe(2);
    expect(await jobNames('new')).toEqual([['events-batch']]);
    await eventually(async () => (await learnt(c, 'gc4')).join() === '6,6', 15_000);
  }, 60_000);

  it("when only some of a group's jobs reach the queue, only the others give their marks back, and a retry learns each event once", async () => {
    const c = client(svc.url);
    const decisions = await policyWithDecisions(c, 'gc3', 4, (i) => `partial ${i}`);
    const intake = svc.api.get(IngestService, { strict: false });
    const { queue } = intake as unknown as { queue: Queue };
    // A job per kind (a worker of an earlier version is connected), so that one of the two can be lost.
    const older = await olderWorkerConnection(queue);
    await svc.api.get(WorkerProtocol, { strict: false }).refresh();
    const realAddBulk = queue.addBulk.bind(queue);
    // The pipeline stores the first job, then fails (what a connection lost mid-pipeline can leave).
    const addBulk = jest.spyOn(queue, 'addBulk').mockImplementationOnce(async (jobs) => {
      await realAddBulk(jobs.slice(0, 1));
      throw new Error('connection lost');
    });
    const send = () => sendTogether(intake, decisions, 'part');
    let first: PromiseSettledResult<unknown>[];
    let storedKind: string;
    try {
      first = await Promise.allSettled([send()]);
      storedKind = addBulk.mock.calls[0][0][0].name;
    } finally {
      addBulk.mockRestore();
      await older.quit();
      await svc.api.get(WorkerProtocol, { strict: false }).refresh();
    }
    expect(first[0].status).toBe('rejected'); // 503 for the whole group
    const hot = svc.api.get(DecisionHotStore, { strict: false });
    const redis = new Redis(REDIS_URL);
    try {
      const mark = (id: string) => redis.get(hot.keys.eventSeen(ownedEventId(ADMIN_PRINCIPAL.owner, id)));
      const storedPrefix = storedKind === 'feedback-batch' ? 'part-f' : 'part-e';
      const lostPrefix = storedKind === 'feedback-batch' ? 'part-e' : 'part-f';
      // The stored job's events keep their pending marks, aged past the stale age (10 s) so that a retry takes them
      // over at once instead of being told to wait; the others gave theirs back.
      const ttlMs = 7 * 86400 * 1000;
      for (let i = 0; i < 4; i++) {
        expect(await mark(`${storedPrefix}${i}`)).toBe('p');
        await eventually(
          async () => (await redis.pttl(hot.keys.eventSeen(ownedEventId(ADMIN_PRINCIPAL.owner, `${storedPrefix}${i}`)))) <= ttlMs - 10_000,
          2000,
        );
        expect(await mark(`${lostPrefix}${i}`)).toBeNull();
      }
    } finally {
      await redis.quit();
    }
    const retried = await send();
    expect(retried.map((a) => a.status)).toEqual(Array.from({ length: 8 }, () => 'accepted'));
    await eventually(async () => (await learnt(c, 'gc3')).join() === '4,4', 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await learnt(c, 'gc3')).toEqual([4, 4]); // the stored job and its retry: learnt once
  }, 60_000);
});
