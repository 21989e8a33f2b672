import postgres from 'postgres';
import { client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';

const MSG = [{ role: 'user', content: 'hello' }];

/**
 * Direct model calls through the real app: `"model": "<id>"` on /v1/chat/completions goes to that model's
 * upstream (the proxy's attempts, breakers and OpenAI-shaped errors), its usage is stored as a usage event of the
 * calling key, and no routing decision is made or learnt.
 */
describe('direct model calls', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let up: FakeUpstream;
  let sql: postgres.Sql;
  let admin: ReturnType<typeof client>;
  let restricted: ReturnType<typeof client>;
  let restrictedId: string;
  let open: ReturnType<typeof client>;

  beforeAll(async () => {
    up = await startFakeUpstream();
    env = await freshEnvironment('direct');
    svc = await startService(env, 1, { BREAKER_THRESHOLD: '100' });
    sql = postgres(env.databaseUrl, { max: 2, onnotice: () => undefined });
    admin = client(svc.url);
    const base = { baseUrl: `${up.url}/v1`, pricing: { inputPerMTok: 1, outputPerMTok: 2 }, energy: { joulesPerOutputToken: 0.5 } };
    for (const [id, extra] of [
      ['small', {}],
      ['large', {}],
      ['other', {}],
      ['flaky', {}],
      ['off', { enabled: false }],
      ['bare', { baseUrl: undefined }],
    ] as const)
      expect((await admin.put(`/admin/models/${id}`, { ...base, ...extra, upstreamModel: `up-${id}` })).status).toBe(200);
    up.setMode('up-flaky', 'error500');
    expect((await admin.put('/admin/policies/chat', { algorithm: 'linucb', arms: ['small', 'large', 'off', 'bare'] })).status).toBe(201);
    const k = await admin.post('/admin/keys', { name: 'shop', scope: 'route', policies: ['chat'] });
    restricted = client(svc.url, k.body.secret);
    restrictedId = k.body.id;
    open = client(svc.url, (await admin.post('/admin/keys', { name: 'lab', scope: 'route' })).body.secret);
  });

  afterAll(async () => {
    await sql.end();
    await svc.close();
    await env.drop();
    await up.close();
  });

  it('calls the model upstream without a decision, with the router model header', async () => {
    const before = up.hits.get('up-small') ?? 0;
    const r = await restricted.post('/v1/chat/completions', { model: 'small', messages: MSG, temperature: 0 });
    expect(r.status).toBe(200);
    expect(r.body.model).toBe('small');
    expect(r.body.choices[0].message.content).toBe('Hello from up-small!');
    expect(r.headers.get('x-router-model')).toBe('small');
    expect(r.headers.get('x-router-decision-id')).toBeNull();
    expect(up.hits.get('up-small')).toBe(before + 1);

    const s = await restricted.call('POST', '/v1/chat/completions', { model: 'large', messages: MSG, stream: true });
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(s.body).toContain('"model":"large"');
    expect(s.body).toContain('data: [DONE]');
  });

  it('refuses models the key may not call with one OpenAI-shaped 404, and bad ids with a 400 naming model', async () => {
    // not an arm of the key's policy, unknown, disabled, no upstream: the same answer
    for (const model of ['other', 'nope', 'off', 'bare', 'router']) {
      const r = await restricted.post('/v1/chat/completions', { model, messages: MSG });
      expect(r.status).toBe(404);
      expect(r.body.error).toMatchObject({ type: 'not_found_error', code: 'model_not_found', param: 'model' });
    }
    expect((await open.post('/v1/chat/completions', { model: 'other', messages: MSG })).status).toBe(200);
    expect((await open.post('/v1/chat/completions', { model: 'off', messages: MSG })).status).toBe(404);
    for (const model of ['bad model', '', 'x'.repeat(129), 7]) {
      const r = await open.post('/v1/chat/completions', { model, messages: MSG });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'invalid_request_error', param: 'model' });
    }
  });

  it('retries a failing upstream once, then answers 502 in the OpenAI shape (no fallback to another model)', async () => {
    const before = up.hits.get('up-flaky') ?? 0;
    const otherBefore = up.hits.get('up-other') ?? 0;
    const r = await open.post('/v1/chat/completions', { model: 'flaky', messages: MSG });
    expect(r.status).toBe(502);
    expect(r.body.error).toMatchObject({ type: 'api_error', code: 'upstream_failed' });
    expect(up.hits.get('up-flaky')).toBe(before + 2);
    expect(up.hits.get('up-other') ?? 0).toBe(otherBefore);
  });

  it('records usage per key and model (tokens, cost, energy estimate) and learns no decision', async () => {
    const rows = async () =>
      sql<
        { model: string; status: string; inputTokens: number; outputTokens: number; costUsd: number | null; joules: number | null; decisionId: string | null }[]
      >`
        select model, status, input_tokens as "inputTokens", output_tokens as "outputTokens", cost_usd as "costUsd", joules, decision_id as "decisionId"
        from events where kind = 'usage' and key_id = ${restrictedId} order by model`;
    await eventually(async () => (await rows()).length === 2);
    const got = await rows();
    // 7 input and 4 output tokens at 1 and 2 USD per million; 0.5 J per output token
    for (const [row, model] of [
      [got[0], 'large'],
      [got[1], 'small'],
    ] as const)
      expect(row).toEqual({ model, status: 'direct', inputTokens: 7, outputTokens: 4, costUsd: (7 + 8) / 1e6, joules: 2, decisionId: null });
    // The failed call's usage (previous test) goes through the queue too: wait for it.
    const failedRows = () => sql`select status, cost_usd from events where kind = 'usage' and model = 'flaky'`;
    await eventually(async () => (await failedRows()).length > 0);
    const failed = await failedRows();
    expect(failed).toEqual([{ status: 'direct', cost_usd: null }]);
    const stats = (await admin.get('/admin/policies/chat/stats')).body;
    expect(stats.decisions).toBe(0);
    expect(stats.arms.every((a: { costUsd: { count: number } }) => a.costUsd.count === 0)).toBe(true);
    expect((await sql`select count(*)::int as n from decisions`)[0].n).toBe(0);
  });

  it('lists the routers and then the models the key may call', async () => {
    const ids = async (c: ReturnType<typeof client>) => (await c.get('/v1/models')).body.data.map((m: { id: string }) => m.id);
    expect(await ids(restricted)).toEqual(['router/chat', 'large', 'small']);
    expect(await ids(open)).toEqual(['router/chat', 'flaky', 'large', 'other', 'small']);
    // One entry, as `models.retrieve` asks for it: a router's id holds a slash, encoded or not.
    for (const path of ['/v1/models/router/chat', '/v1/models/router%2Fchat'])
      expect((await restricted.get(path)).body).toEqual({ id: 'router/chat', object: 'model', created: expect.any(Number), owned_by: 'bandit-router' });
    expect((await restricted.get('/v1/models/small')).body).toMatchObject({ id: 'small', object: 'model' });
    // One the key may not call is as unknown as one that does not exist, in OpenAI's envelope.
    const hidden = await restricted.get('/v1/models/other');
    const missing = await restricted.get('/v1/models/nope');
    expect([hidden.status, hidden.body.error.param, hidden.body.error.message]).toEqual([404, 'model', expect.stringContaining('model other does not exist')]);
    expect([missing.status, missing.body.error.type]).toEqual([404, hidden.body.error.type]);
    // An id that decodes to a percent sign is an id like any other (not decoded twice).
    for (const odd of ['%25', '%25E0', 'a%2520b']) expect([odd, (await restricted.get(`/v1/models/${odd}`)).status]).toEqual([odd, 404]);
    // OpenAI's paths the router does not offer answer in OpenAI's envelope too (its SDK shows the message).
    const legacy = await restricted.post('/v1/completions', { model: 'small', prompt: 'hi' });
    expect([legacy.status, legacy.body.error.code, legacy.body.error.message]).toEqual([404, 'unknown_url', expect.stringContaining('/v1/completions')]);
  });
});
