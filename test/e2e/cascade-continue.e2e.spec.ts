import postgres from 'postgres';
import { createRng } from '@app/bandits';
import { escalationDim } from '@app/learning';
import { client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';

const DIM = 4;
/** What the cheap model answers: right, with its working checked; or a refusal (always wrong). */
const GOOD = 'Half of 84 is <<84/2=42>>42.\n#### 42';
const BAD = "I'm sorry, but I can't help with that.";

/**
 * Learned escalation through `POST /v1/route/{decisionId}/continue`, on the real app: a product calls its cheap
 * model first (`candidates`), sends the answer, and gets accept or escalate from the policy's escalation policy.
 * The cheap model refuses on one kind of prompt and is right on the other; the dear model is always right and
 * costs 0.3 quality units (cost weight 0.3 on a scale of the dearest model's price). After a few hundred requests
 * with feedback on the final answers, the refusals escalate and the good answers are accepted; the same feedback
 * taught the router decisions whose models answered; the escalation policy's state is rebuilt from the log.
 */
describe('cascade: continue a decision with its answer', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let sql: postgres.Sql;
  let admin: ReturnType<typeof client>;

  beforeAll(async () => {
    env = await freshEnvironment('cascade');
    svc = await startService(env, 1);
    sql = postgres(env.databaseUrl, { max: 2, onnotice: () => undefined });
    admin = client(svc.url);
    expect((await admin.put('/admin/models/cheap', { pricing: { inputPerMTok: 0.1, outputPerMTok: 0.1 } })).status).toBe(200);
    expect((await admin.put('/admin/models/dear', { pricing: { inputPerMTok: 10, outputPerMTok: 30 } })).status).toBe(200);
    const put = await admin.put('/admin/policies/casc', {
      algorithm: 'linucb',
      arms: ['cheap', 'dear'],
      features: { source: 'caller', dim: DIM },
      objective: { quality: 1, cost: 0.3 },
      cascade: { maxSteps: 2 },
    });
    expect(put.status).toBe(201);
    await eventually(async () => (await admin.post('/v1/route', { policy: 'casc', features: [1, 0, 0, 0] })).status === 200);
  }, 60_000);

  afterAll(async () => {
    await sql?.end({ timeout: 1 });
    await svc?.close();
    await env?.drop();
  });

  it('keeps an escalation policy beside the router and reserves its name', async () => {
    const esc = await admin.get('/admin/policies/casc.escalation');
    expect(esc.status).toBe(200);
    expect(esc.body).toMatchObject({ algorithm: 'lin-ts', arms: ['cheap', 'dear'], objective: { quality: 1, cost: 0.3 } });
    expect(esc.body.features).toMatchObject({ source: 'caller', dim: escalationDim(2, DIM) });
    const reserved = await admin.put('/admin/policies/mine.escalation', { algorithm: 'linucb', arms: ['cheap'] });
    expect(reserved.status).toBe(400);
    expect(reserved.body.errors[0].path).toBe('name');
    const direct = await admin.post('/v1/route', { policy: 'casc.escalation', features: Array(escalationDim(2, DIM)).fill(0) });
    expect(direct.status).toBe(400);
    expect(direct.body.errors[0].path).toBe('policy');
    // Not listed as a router to call, and not named as where to remove a model from (its router is).
    const listed = (await admin.get('/v1/models')).body.data.map((m: { id: string }) => m.id);
    expect(listed).toContain('router/casc');
    expect(listed).not.toContain('router/casc.escalation');
    const inUse = await admin.del('/admin/models/cheap');
    expect(inUse.status).toBe(409);
    expect(inUse.body.detail).toBe('model cheap is an arm of casc; remove it there first');
    // The escalation policy follows the router's objective.
    expect((await admin.patch('/admin/policies/casc/objective', { cost: 0.3 })).status).toBe(200);
    const bad = await admin.put('/admin/policies/duel', { algorithm: 'fgts-cdb', arms: ['cheap', 'dear'], cascade: { maxSteps: 2 } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('cascade');
    const paced = await admin.put('/admin/policies/paced', {
      algorithm: 'linucb',
      arms: ['cheap', 'dear'],
      cascade: { maxSteps: 2 },
      budget: { costUsdPerRequest: 0.01 },
    });
    expect(paced.status).toBe(400);
    expect(paced.body.errors[0].path).toBe('budget');
  });

  it('refuses what it cannot continue, naming the field', async () => {
    const r = await admin.post('/v1/route', { policy: 'casc', features: [1, 0, 0, 0], candidates: ['cheap'] });
    expect(r.status).toBe(200);
    const noAnswer = await admin.post(`/v1/route/${r.body.decisionId}/continue`, { input: 'q' });
    expect(noAnswer.status).toBe(400);
    expect(noAnswer.body.errors[0].path).toBe('answer');
    const unknown = await admin.post('/v1/route/nope/continue', { answer: 'a' });
    expect(unknown.status).toBe(404);
    const badId = await admin.post('/v1/route/no%20pe/continue', { answer: 'a' });
    expect(badId.status).toBe(400);
    const first = await admin.post(`/v1/route/${r.body.decisionId}/continue`, { answer: GOOD });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ answered: 'cheap', reason: 'learned' });
    const again = await admin.post(`/v1/route/${r.body.decisionId}/continue`, { answer: GOOD });
    expect(again.status).toBe(409);
    // Another tenant's key cannot see the decision.
    const other = await admin.post('/admin/keys', { name: 'other-tenant', scope: 'route' });
    const theirs = await client(svc.url, other.body.secret).post(`/v1/route/${r.body.decisionId}/continue`, { answer: GOOD });
    expect(theirs.status).toBe(404);
    // Nor does a key of the same owner restricted to other policies: the decision is unknown to it, its policy unnamed.
    const mine = await admin.post('/admin/keys', { name: 'casc-owner', scope: 'route', policies: ['casc'] });
    const sibling = await admin.post('/admin/keys', { name: 'casc-owner', scope: 'route', policies: ['elsewhere'] });
    const d = (await client(svc.url, mine.body.secret).post('/v1/route', { policy: 'casc', features: [1, 0, 0, 0], candidates: ['cheap'] })).body.decisionId;
    const hidden = await client(svc.url, sibling.body.secret).post(`/v1/route/${d}/continue`, { answer: GOOD });
    expect([hidden.status, hidden.body.type, hidden.body.errors[0].path, hidden.body.detail]).toEqual([
      404,
      'urn:router:problem:decision-not-found',
      'decisionId',
      expect.not.stringContaining('casc'),
    ]);
  });

  it('learns to escalate the answers that fail and to accept the others', async () => {
    const rng = createRng(7);
    const rounds: { bad: boolean; escalated: boolean }[] = [];
    const escalatedRouterDecisions: string[] = [];
    for (let t = 0; t < 320; t++) {
      const bad = rng.next() < 0.5;
      const features = [1, bad ? 1 : 0, rng.normal() * 0.1, rng.normal() * 0.1];
      const r = await admin.post('/v1/route', { policy: 'casc', features, candidates: ['cheap'] });
      expect(r.status).toBe(200);
      const c = await admin.post(`/v1/route/${r.body.decisionId}/continue`, { answer: bad ? BAD : GOOD, input: 'What is half of 84?' });
      expect(c.status).toBe(200);
      expect(c.body.policy).toBe('casc.escalation');
      const escalated = c.body.action === 'escalate';
      expect(c.body.model).toBe(escalated ? 'dear' : 'cheap');
      expect(c.body.step).toBe(escalated ? 2 : 1);
      rounds.push({ bad, escalated });
      // The final answer: the dear model is always right; the cheap one only when it did not refuse.
      const reward = escalated || !bad ? 1 : 0;
      const f = await admin.post('/v1/feedback', { decisionId: c.body.decisionId, reward, eventId: `final-${t}` });
      expect(f.status).toBe(202);
      if (escalated) {
        // Nothing is left to call: the cascade ends at its last step.
        const end = await admin.post(`/v1/route/${c.body.decisionId}/continue`, { answer: GOOD });
        expect(end.body).toMatchObject({ action: 'accept', reason: 'max-steps', model: 'dear', decisionId: c.body.decisionId });
        escalatedRouterDecisions.push(c.body.decisionId);
      }
    }
    const last = rounds.slice(-120);
    const rate = (bad: boolean) => {
      const kind = last.filter((r) => r.bad === bad);
      return kind.filter((r) => r.escalated).length / kind.length;
    };
    expect(rate(true)).toBeGreaterThan(0.8);
    expect(rate(false)).toBeLessThan(0.2);

    // Every final-answer event also reached the router decision whose model gave the answer, once.
    await eventually(async () => {
      const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from events where id like '%|router' and status = 'learned'`;
      return n === rounds.length;
    }, 30_000);
    const shares = await sql<{ arm: string; policy: string }[]>`
      select d.arm, d.policy from events e join decisions d on d.id = e.decision_id where e.id like '%|router'`;
    expect(shares.every((s) => s.policy === 'casc')).toBe(true);
    expect(shares.filter((s) => s.arm === 'dear').length).toBe(rounds.filter((r) => r.escalated).length);
    // A reading sent with the final answer's feedback reaches the router decision of the model that answered too.
    const routed = await admin.post('/v1/route', { policy: 'casc', features: [1, 0, 0, 0], candidates: ['cheap'] });
    const step = await admin.post(`/v1/route/${routed.body.decisionId}/continue`, { answer: GOOD });
    expect((await admin.post('/v1/energy', { decisionId: step.body.decisionId, joules: 12, eventId: 'reading-1' })).status).toBe(202);
    await eventually(async () => {
      const rows = await sql<
        { arm: string; policy: string }[]
      >`select d.arm, d.policy from events e join decisions d on d.id = e.decision_id where e.id like '%reading-1|router'`;
      return rows.length === 1 && rows[0].policy === 'casc' && rows[0].arm === step.body.model;
    }, 15_000);
    const escDecisions = await sql<{ n: number }[]>`select count(*)::int as n from decisions where policy = 'casc.escalation' and cascade is not null`;
    expect(escDecisions[0].n).toBe(rounds.length + 2);
    expect(escalatedRouterDecisions.length).toBe(rounds.filter((r) => r.escalated).length);
  }, 240_000);

  it('refuses what would teach the wrong decision: a model that left, an ended cascade, a reused event id', async () => {
    for (const m of ['mid']) expect((await admin.put(`/admin/models/${m}`, { pricing: { inputPerMTok: 1, outputPerMTok: 3 } })).status).toBe(200);
    const three = { algorithm: 'linucb', arms: ['cheap', 'mid', 'dear'], features: { source: 'caller', dim: DIM }, cascade: { maxSteps: 3 } };
    expect((await admin.put('/admin/policies/three', three)).status).toBe(201);
    // An accepted answer at the second step ends the cascade like one at the first.
    let ended = 0;
    for (let i = 0; i < 200 && ended === 0; i++) {
      const r = await admin.post('/v1/route', { policy: 'three', features: [1, 0, 0, 0], candidates: ['cheap'] });
      const e1 = await admin.post(`/v1/route/${r.body.decisionId}/continue`, { answer: BAD });
      if (e1.body.action !== 'escalate' || e1.body.model !== 'mid') continue;
      const e2 = await admin.post(`/v1/route/${e1.body.decisionId}/continue`, { answer: GOOD });
      if (e2.body.action !== 'accept') continue;
      const again = await admin.post(`/v1/route/${e2.body.decisionId}/continue`, { answer: BAD });
      expect(again.status).toBe(409);
      expect(again.body.errors[0].path).toBe('decisionId');
      ended++;
      // Feedback on the final answer (mid's, accepted at step 2) teaches mid's router decision, the escalation that
      // led there, and gives the router decision of the hidden first answer the escalation policy's estimate.
      expect((await admin.post('/v1/feedback', { decisionId: e2.body.decisionId, reward: 1, eventId: 'three-final' })).status).toBe(202);
      await eventually(async () => {
        const rows = await sql<{ id: string; decision: string; arm: string; reward: number }[]>`
          select e.id, e.decision_id as decision, d.arm, e.reward from events e join decisions d on d.id = e.decision_id
          where e.id like '%three-final%' and e.status = 'learned'`;
        const by = (suffix: string) => rows.find((row) => row.id.endsWith(suffix));
        return (
          rows.length === 4 &&
          by('three-final')?.decision === e2.body.decisionId &&
          by('|step0')?.decision === e1.body.decisionId &&
          by('|router')?.arm === 'mid' &&
          by('|censored0')?.decision === r.body.decisionId &&
          by('|censored0')!.reward >= 0 &&
          by('|censored0')!.reward <= 1
        );
      }, 15_000);
    }
    expect(ended).toBe(1);
    // A decision whose model left the policy.
    const old = await admin.post('/v1/route', { policy: 'three', features: [1, 0, 0, 0], candidates: ['mid'] });
    expect((await admin.put('/admin/policies/three', { ...three, arms: ['cheap', 'dear'] })).status).toBe(200);
    expect((await admin.post(`/v1/route/${old.body.decisionId}/continue`, { answer: GOOD })).status).toBe(409);
    // An event id the caller used before answers "duplicate" and teaches nothing, the router's share included.
    const r = await admin.post('/v1/route', { policy: 'casc', features: [1, 0, 0, 0], candidates: ['cheap'] });
    const c = await admin.post(`/v1/route/${r.body.decisionId}/continue`, { answer: GOOD });
    expect((await admin.post('/v1/feedback', { decisionId: r.body.decisionId, reward: 1, eventId: 'reused-id' })).body.status).toBe('accepted');
    expect((await admin.post('/v1/feedback', { decisionId: c.body.decisionId, reward: 0, eventId: 'reused-id' })).body.status).toBe('duplicate');
    await new Promise((res) => setTimeout(res, 500));
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from events where id like '%reused-id|router'`;
    expect(n).toBe(0);
  }, 120_000);

  it('keeps the escalation policy in step with its router only', async () => {
    for (const [method, path, body] of [
      ['DELETE', '/admin/policies/casc.escalation', undefined],
      ['PATCH', '/admin/policies/casc.escalation/objective', { cost: 5 }],
      ['PATCH', '/admin/policies/casc.escalation/budget', { budget: { costUsdPerRequest: 0.001 } }],
      ['POST', '/admin/policies/casc.escalation/reset', undefined],
    ] as const) {
      const r = await admin.call(method, path, body);
      expect(r.status).toBe(400);
      expect(r.body.errors[0].path).toBe('name');
    }
    const tooLong = await admin.put(`/admin/policies/p${'x'.repeat(117)}`, { algorithm: 'linucb', arms: ['cheap', 'dear'], cascade: { maxSteps: 2 } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0].path).toBe('name');
    const long = `p${'x'.repeat(116)}`; // 117 characters: its escalation policy's name is 128
    expect((await admin.put(`/admin/policies/${long}`, { algorithm: 'linucb', arms: ['cheap', 'dear'], cascade: { maxSteps: 2 } })).status).toBe(201);
    expect((await admin.get(`/admin/policies/${long}.escalation`)).status).toBe(200);
    // Without a cascade any more, the escalation policy goes.
    expect((await admin.put(`/admin/policies/${long}`, { algorithm: 'linucb', arms: ['cheap', 'dear'], cascade: null })).status).toBe(200);
    expect((await admin.get(`/admin/policies/${long}.escalation`)).status).toBe(404);
  });

  it('rebuilds the escalation policy from the log to the same statistics', async () => {
    const stats = async () => (await admin.get('/admin/policies/casc.escalation/stats')).body;
    const before = await stats();
    expect(before.arms.map((a: { pulls: number }) => a.pulls).reduce((x: number, y: number) => x + y, 0)).toBeGreaterThan(300);
    const rebuilt = await admin.post('/admin/policies/casc.escalation/rebuild');
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.body.decisions).toBeGreaterThan(300);
    expect(rebuilt.body.eventsReplayed).toBeGreaterThan(300);
    await eventually(async () => JSON.stringify((await stats()).arms) === JSON.stringify(before.arms), 15_000);
  }, 60_000);
});
