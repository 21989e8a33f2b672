import OpenAI from 'openai';
import { client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';
import { type FakeEmbeddings, fakeEmbedding, startFakeEmbeddings } from '../support/fake-embeddings.js';

/** The fake upstream's usage: 3 input tokens per text; this model's price per million input tokens. */
const PER_TEXT = 3;
const INPUT_PER_MTOK = 2;

/**
 * `POST /v1/embeddings` end to end: the official `openai` client → our api → a local OpenAI-compatible embeddings
 * upstream → the call's usage through the queue and worker into the key's spend report.
 */
describe('OpenAI-compatible embeddings', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let up: FakeEmbeddings;
  let admin: ReturnType<typeof client>;

  beforeAll(async () => {
    up = await startFakeEmbeddings();
    env = await freshEnvironment('embeddings_proxy');
    // Small answer limit: 8 texts' embeddings (~5 KB) exceed it.
    svc = await startService(env, 1, { BREAKER_THRESHOLD: '3', PROXY_MAX_RESPONSE_BYTES: '4096' });
    admin = client(svc.url);
    const pricing = { inputPerMTok: INPUT_PER_MTOK, outputPerMTok: 0 };
    for (const m of ['embed-small', 'broken', 'chat-a', 'embed-of-policy', 'odd', 'garbled'])
      expect((await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${m}`, pricing })).status).toBe(200);
    up.setMode('up-broken', 'error500');
    up.setMode('up-odd', 'odd-usage');
    up.setMode('up-garbled', 'malformed');
    expect((await admin.put('/admin/policies/chat', { algorithm: 'linucb', arms: ['chat-a'] })).status).toBe(201);
    const features = { source: 'embeddings', model: 'embed-of-policy', dim: 8 };
    expect((await admin.put('/admin/policies/embedded', { algorithm: 'linucb', arms: ['chat-a'], features })).status).toBe(201);
  });

  afterAll(async () => {
    await svc.close();
    await env.drop();
    await up.close();
  });

  it("answers through the official client with the model's id, and charges the key the tokens the upstream counted", async () => {
    const key = await admin.post('/admin/keys', { name: 'embedder', scope: 'route' });
    const oa = new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: key.body.secret, maxRetries: 0 });
    const { data, response } = await oa.embeddings
      .create({ model: 'embed-small', input: ['first text', 'second text'], encoding_format: 'float', dimensions: 32 })
      .withResponse();
    expect(response.headers.get('x-router-model')).toBe('embed-small');
    expect(data.model).toBe('embed-small');
    expect(data.data.map((d) => d.index)).toEqual([0, 1]);
    expect(data.data[1].embedding).toEqual(fakeEmbedding('second text'));
    expect(data.usage).toEqual({ prompt_tokens: 2 * PER_TEXT, total_tokens: 2 * PER_TEXT });
    // What reached the upstream: its own model name, the other parameters unchanged, no chat fields.
    const sent = up.calls.at(-1)!;
    expect(sent.model).toBe('up-embed-small');
    expect(sent.input).toEqual(['first text', 'second text']);
    expect(sent.body).toMatchObject({ encoding_format: 'float', dimensions: 32 });
    expect(sent.body).not.toHaveProperty('messages');
    expect(sent.body).not.toHaveProperty('stream');

    let usage: { total: Record<string, number> } = { total: {} };
    await eventually(async () => (usage = (await admin.get(`/admin/keys/${key.body.id}/usage`)).body).total.requests === 1, 10_000);
    expect(usage.total).toMatchObject({ requests: 1, failed: 0, inputTokens: 2 * PER_TEXT, outputTokens: 0 });
    expect(usage.total.costUsd).toBeCloseTo((2 * PER_TEXT * INPUT_PER_MTOK) / 1e6, 12);
  });

  it("refuses what it cannot call in OpenAI's error shape, naming the field; retries an upstream's 5xx once, then 502", async () => {
    const bad = async (body: unknown, status: number, param?: string) => {
      const r = await admin.post('/v1/embeddings', body);
      expect([r.status, r.body.error?.param ?? null]).toEqual([status, param ?? null]);
      expect(typeof r.body.error.message).toBe('string');
    };
    await bad({ model: 'router/chat', input: 'x' }, 400, 'model'); // embeddings are not routed
    await bad({ model: 'embed-small' }, 400, 'input');
    await bad({ model: 'embed-small', input: [] }, 400, 'input');
    // The field at fault: `input`, or the item in it (`input.1`).
    for (const input of [[{ text: 'x' }], '', [[]], [1, 'a', [2]], ['a', ''], [-1]]) {
      const r = await admin.post('/v1/embeddings', { model: 'embed-small', input });
      expect([r.status, String(r.body.error?.param)]).toEqual([400, expect.stringMatching(/^input(\.\d+)*$/)]);
    }
    await bad({ model: 'nope', input: 'x' }, 404, 'model');
    // A key restricted to policies calls only their models: arms, and the model an embeddings policy embeds with.
    const restricted = await admin.post('/admin/keys', { name: 'policy-bound', scope: 'route', policies: ['chat', 'embedded'] });
    const mine = client(svc.url, restricted.body.secret);
    expect((await mine.post('/v1/embeddings', { model: 'embed-small', input: 'x' })).status).toBe(404);
    expect((await mine.post('/v1/embeddings', { model: 'chat-a', input: 'x' })).status).toBe(200);
    expect((await mine.post('/v1/embeddings', { model: 'embed-of-policy', input: 'x' })).status).toBe(200);
    const chatOnly = await admin.post('/admin/keys', { name: 'chat-only', scope: 'route', policies: ['chat'] });
    expect((await client(svc.url, chatOnly.body.secret).post('/v1/embeddings', { model: 'embed-of-policy', input: 'x' })).status).toBe(404);

    const before = up.calls.filter((c) => c.model === 'up-broken').length;
    const failed = await admin.post('/v1/embeddings', { model: 'broken', input: 'x' });
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatchObject({ type: expect.any(String) });
    expect(up.calls.filter((c) => c.model === 'up-broken').length - before).toBe(2);
    const metrics = (await admin.get('/metrics')).body as string;
    expect(metrics).toMatch(/router_upstream_errors_total\{model="broken",endpoint="embeddings",reason="status"\} 2/);
    expect((await client(svc.url, '').post('/v1/embeddings', { model: 'embed-small', input: 'x' })).status).toBe(401);
  });

  it("keeps an upstream's embeddings failures off its model's breaker, which routing reads", async () => {
    // chat-a's upstream fails embeddings: its embeddings breaker opens (threshold 3), its model's stays closed.
    up.setMode('up-chat-a', 'error500');
    for (let i = 0; i < 3; i++) expect((await admin.post('/v1/embeddings', { model: 'chat-a', input: 'x' })).status).toBe(502);
    const model = (await admin.get('/admin/models/chat-a')).body;
    expect(model.breaker).toMatchObject({ state: 'closed', failures: 0 });
    expect(model.embeddingsBreaker).toMatchObject({ state: 'open' });
    expect((await admin.get('/admin/models/embed-small')).body).not.toHaveProperty('embeddingsBreaker'); // never failed
    const calls = () => up.calls.filter((c) => c.model === 'up-chat-a').length;
    const before = calls();
    const open = await admin.post('/v1/embeddings', { model: 'chat-a', input: 'x' });
    expect([open.status, calls() - before]).toEqual([502, 0]); // its embeddings breaker is open: not called
    expect(open.body.error.message).toContain('circuit open');
    // Routing still offers the model.
    const route = await admin.post('/v1/route', { policy: 'chat', input: 'still routed' });
    expect([route.status, route.body.model]).toEqual([200, 'chat-a']);
    up.setMode('up-chat-a', 'ok');
  });

  it('charges the input of an answer over the response limit, which the upstream made all the same', async () => {
    const key = await admin.post('/admin/keys', { name: 'big-batch', scope: 'route' });
    const texts = Array.from({ length: 8 }, (_, i) => `text number ${i}`);
    const body = { model: 'embed-small', input: texts, encoding_format: 'float' };
    const r = await client(svc.url, key.body.secret).post('/v1/embeddings', body);
    expect(r.status).toBe(502);
    expect(r.body.error.message).toMatch(/PROXY_MAX_RESPONSE_BYTES/);
    let usage: { total: Record<string, number> } = { total: {} };
    await eventually(async () => (usage = (await admin.get(`/admin/keys/${key.body.id}/usage`)).body).total.requests === 1, 10_000);
    // No usage was read: the input is estimated from its texts (each text's UTF-8 bytes / 4).
    const estimate = texts.reduce((n, t) => n + Math.ceil(Buffer.byteLength(t) / 4), 0);
    expect(usage.total).toMatchObject({ requests: 1, failed: 1, inputTokens: estimate, outputTokens: 0 });
    expect(usage.total.costUsd).toBeGreaterThan(0);
  });

  it('charges input only: a total count where the answer gives no prompt count, nothing for chat fields, the input of an answer it could not read', async () => {
    const usageOf = async (model: string, input: unknown, requests = 1) => {
      const key = await admin.post('/admin/keys', { name: `usage-${model}`, scope: 'route' });
      const r = await client(svc.url, key.body.secret).post('/v1/embeddings', { model, input });
      let usage: { total: Record<string, number> } = { total: {} };
      await eventually(async () => (usage = (await admin.get(`/admin/keys/${key.body.id}/usage`)).body).total.requests === requests, 10_000);
      return { status: r.status, total: usage.total };
    };
    const odd = await usageOf('odd', ['a', 'b', 'c']);
    expect(odd.status).toBe(200);
    expect(odd.total).toMatchObject({ inputTokens: 3 * PER_TEXT, outputTokens: 0, failed: 0 });
    expect(odd.total.costUsd).toBeCloseTo((3 * PER_TEXT * INPUT_PER_MTOK) / 1e6, 12);
    // A 200 that is not JSON: tried twice, 502, and each attempt's input charged (token arrays counted by their length).
    const garbled = await usageOf('garbled', [Array(500).fill(7), [1, 2]], 2);
    expect(garbled.status).toBe(502);
    expect(garbled.total).toMatchObject({ inputTokens: 2 * 502, outputTokens: 0, failed: 2 });
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await admin.get('/openapi.json')).body;
    expect(doc.paths['/v1/embeddings'].post.operationId).toBe('createEmbeddings');
    expect(doc.paths['/v1/embeddings'].post.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['model', 'input']));
  });
});
