import postgres from 'postgres';
import { createRng } from '@app/bandits';
import { ADMIN_KEY, client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';

/**
 * The kind of prompt the cheap model fails on: halving an odd number (it refuses); it halves even numbers right,
 * with checked working. The dear model is always right. The numbers are random, so the router cannot tell the
 * kinds apart from the prompt's text (hashed tokens); the answer tells them apart.
 */
const numberIn = (prompt: string) => Number(/half of (\d+)/.exec(prompt)?.[1] ?? 0);
const answer = (model: string, prompt: string) => {
  const n = numberIn(prompt);
  if (model === 'up-cheap' && n % 2 === 1) return "I'm sorry, but I can't help with that.";
  return `Half of ${n} is <<${n}/2=${n / 2}>>${n / 2}.\n#### ${n / 2}`;
};

/**
 * The cascade through the OpenAI-compatible proxy with a fake upstream: `router/<policy>` of a policy with
 * `cascade` answers through the routed model, the escalation policy examines the answer and may call the dearer
 * model; `x-router-models` lists the models called and `x-router-decision-id` names the decision feedback goes to.
 * After a few hundred requests with feedback on the final answers, the prompts the cheap model fails on escalate to
 * the dear model and the others are answered by the cheap model alone; each call's usage is stored with its own
 * router decision.
 */
describe('cascade through the proxy', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let up: FakeUpstream;
  let sql: postgres.Sql;
  let admin: ReturnType<typeof client>;

  beforeAll(async () => {
    up = await startFakeUpstream({ answer });
    env = await freshEnvironment('pcascade');
    svc = await startService(env, 1);
    sql = postgres(env.databaseUrl, { max: 2, onnotice: () => undefined });
    admin = client(svc.url);
    for (const [id, price] of [
      ['cheap', 0.2],
      ['dear', 20],
    ] as const)
      expect(
        (await admin.put(`/admin/models/${id}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${id}`, pricing: { inputPerMTok: price, outputPerMTok: price } }))
          .status,
      ).toBe(200);
    const put = await admin.put('/admin/policies/pc', {
      algorithm: 'linucb',
      arms: ['cheap', 'dear'],
      objective: { quality: 1, cost: 0.7 },
      // The fake upstream's usage (7 tokens in, 4 out): the cost scale is then the dear model's price of a call.
      params: { expectedInputTokens: 7, expectedOutputTokens: 4 },
      cascade: { maxSteps: 2 },
    });
    expect(put.status).toBe(201);
    await eventually(async () => (await admin.get('/admin/policies/pc.escalation')).status === 200);
  }, 60_000);

  afterAll(async () => {
    await sql?.end({ timeout: 1 });
    await svc?.close();
    await env?.drop();
    await up?.close();
  });

  it('learns which answers to escalate', async () => {
    const rng = createRng(11);
    const seen: { odd: boolean; models: string }[] = [];
    for (let t = 0; t < 300; t++) {
      const n = 100 + Math.floor(rng.next() * 900);
      const prompt = `What is half of ${n}? Show the working.`;
      const r = await admin.post('/v1/chat/completions', { model: 'router/pc', messages: [{ role: 'user', content: prompt }] });
      expect(r.status).toBe(200);
      const models = r.headers.get('x-router-models') ?? '';
      const final = models.split(',').at(-1);
      expect(r.body.model).toBe(final);
      expect(r.headers.get('x-router-model')).toBe(final);
      const odd = n % 2 === 1;
      seen.push({ odd, models });
      const reward = final === 'dear' || !odd ? 1 : 0;
      const f = await admin.post('/v1/feedback', { decisionId: r.headers.get('x-router-decision-id'), reward });
      expect(f.status).toBe(202);
    }
    const last = seen.slice(-100);
    const share = (odd: boolean, models: string) => {
      const kind = last.filter((s) => s.odd === odd);
      return kind.filter((s) => s.models === models).length / kind.length;
    };
    // The failing kind escalates; the other is answered by the cheap model alone.
    expect(share(true, 'cheap,dear')).toBeGreaterThan(0.8);
    expect(share(false, 'cheap')).toBeGreaterThan(0.8);

    // Each call's usage went to its own router decision: an escalated request has two (cheap's and dear's).
    const calls = seen.reduce((n, s) => n + s.models.split(',').length, 0);
    await eventually(async () => {
      const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from events where kind = 'usage' and policy = 'pc'`;
      return n === calls;
    }, 30_000);
    const byArm = await sql<
      { arm: string; n: number }[]
    >`select arm, count(*)::int as n from events where kind = 'usage' and policy = 'pc' group by arm order by arm`;
    const dearCalls = seen.filter((s) => s.models.endsWith('dear')).length;
    expect(byArm).toEqual([
      { arm: 'cheap', n: seen.filter((s) => s.models.startsWith('cheap')).length },
      { arm: 'dear', n: dearCalls },
    ]);
  }, 300_000);

  it('streams without the cascade, and keeps the first answer when the escalation target fails', async () => {
    const s = await fetch(`${svc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ model: 'router/pc', stream: true, messages: [{ role: 'user', content: 'What is half of 101?' }] }),
    });
    await s.text();
    expect(s.headers.get('x-router-models')).toBeNull();
    up.setMode('up-dear', 'error500');
    let kept = 0;
    for (let i = 0; i < 20; i++) {
      const r = await admin.post('/v1/chat/completions', {
        model: 'router/pc',
        messages: [{ role: 'user', content: `What is half of ${201 + 2 * i}?` }],
      });
      expect(r.status).toBe(200);
      if (r.headers.get('x-router-models') === 'cheap') kept++;
      // Feedback on the answer that went out teaches its own model: the decision named is the cheap model's
      // (a router decision, or an escalation decision that accepted it), never the failed escalation's.
      const id = r.headers.get('x-router-decision-id');
      await eventually(async () => (await sql`select 1 from decisions where id = ${id}`).length === 1, 10_000);
      const [row] = await sql<{ arm: string }[]>`select arm from decisions where id = ${id}`;
      expect(row.arm).toBe('cheap');
    }
    up.setMode('up-dear', 'ok');
    expect(kept).toBe(20); // every request answered, by the model that could
  }, 120_000);
});
