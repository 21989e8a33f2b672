import postgres from 'postgres';
import { client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';
import { type FakeEmbeddings, startFakeEmbeddings } from '../support/fake-embeddings.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';

const TIMEOUT_MS = 150;
const KEY_ENV = 'UPSTREAM_EMBEDDINGS_E2E_KEY';

/**
 * `features.source: "embeddings"` end to end: the real api and worker, a local OpenAI-compatible embeddings
 * upstream (normal, slow past EMBEDDINGS_TIMEOUT_MS, or failing), and the learning state it leads to.
 */
describe('embeddings features', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let admin: ReturnType<typeof client>;
  let emb: FakeEmbeddings;
  let chat: FakeUpstream;
  let sql: ReturnType<typeof postgres>;

  const features = (model: string) => ({ source: 'embeddings', dim: 16, model });

  beforeAll(async () => {
    process.env[KEY_ENV] = 'sk-embeddings-e2e';
    emb = await startFakeEmbeddings({ slowMs: 1000 });
    emb.setMode('slow-embed', 'slow');
    emb.setMode('broken-embed', 'error500');
    chat = await startFakeUpstream();
    env = await freshEnvironment('embeddings');
    svc = await startService(env, 1, { EMBEDDINGS_TIMEOUT_MS: String(TIMEOUT_MS), EMBEDDINGS_CACHE_ENTRIES: '1000' });
    admin = client(svc.url);
    sql = postgres(env.databaseUrl, { max: 1, onnotice: () => undefined });
    for (const m of ['small', 'large']) expect((await admin.put(`/admin/models/${m}`, { baseUrl: `${chat.url}/v1` })).status).toBe(200);
    const embModel = (upstreamModel: string) => ({ baseUrl: `${emb.url}/v1`, upstreamModel, apiKeyEnv: KEY_ENV });
    expect((await admin.put('/admin/models/emb', embModel('fake-embed'))).status).toBe(200);
    expect((await admin.put('/admin/models/emb-slow', embModel('slow-embed'))).status).toBe(200);
    expect((await admin.put('/admin/models/emb-broken', embModel('broken-embed'))).status).toBe(200);
    expect((await admin.put('/admin/models/no-url', {})).status).toBe(200);
    for (const [name, model] of [
      ['emb', 'emb'],
      ['slow', 'emb-slow'],
      ['broken', 'emb-broken'],
    ])
      expect((await admin.put(`/admin/policies/${name}`, { algorithm: 'linucb', arms: ['small', 'large'], features: features(model) })).status).toBe(201);
  });

  afterAll(async () => {
    await sql?.end();
    await svc?.close();
    await env?.drop();
    await emb?.close();
    await chat?.close();
    delete process.env[KEY_ENV];
  });

  it('refuses an embeddings policy whose model is missing, unknown or has no baseUrl (400 naming features.model)', async () => {
    const put = (f: unknown) => admin.put('/admin/policies/bad', { algorithm: 'linucb', arms: ['small', 'large'], features: f });
    for (const f of [{ source: 'embeddings', dim: 16 }, features('ghost'), features('no-url'), { source: 'builtin', dim: 64, model: 'emb' }]) {
      const r = await put(f);
      expect(r.status).toBe(400);
      expect(r.body.errors.map((e: { path: string }) => e.path)).toContain('features.model');
    }
    const tooSmall = await put({ source: 'embeddings', dim: 1, model: 'emb' });
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.body.errors.map((e: { path: string }) => e.path)).toContain('features.dim');
  });

  it('routes on the embedding of the request text, with the model key, and caches repeated texts', async () => {
    const before = emb.calls.length;
    const r = await admin.post('/v1/route', { policy: 'emb', input: 'Solve 3x + 7 = 22' });
    expect(r.status).toBe(200);
    expect(r.body.featureSource).toBe('embeddings');
    expect(r.body.featureFallbackReason).toBeUndefined();
    expect(emb.calls.length).toBe(before + 1);
    const call = emb.calls[emb.calls.length - 1];
    expect(call).toMatchObject({ model: 'fake-embed', input: 'Solve 3x + 7 = 22' });
    expect(call.headers.authorization).toBe('Bearer sk-embeddings-e2e');

    // The same text again, and as chat messages (the featurizer's text of them is the same): no new call.
    const again = await admin.post('/v1/route', { policy: 'emb', input: 'Solve 3x + 7 = 22' });
    const asMessages = await admin.post('/v1/route', { policy: 'emb', messages: [{ role: 'user', content: 'Solve 3x + 7 = 22' }] });
    expect([again.body.featureSource, asMessages.body.featureSource]).toEqual(['embeddings', 'embeddings']);
    expect(emb.calls.length).toBe(before + 1);

    // The durable record holds the projected context (dim values, unit norm).
    await eventually(async () => (await sql`select 1 from decisions where id = ${r.body.decisionId}`).length === 1);
    const [row] = await sql<{ context: number[] }[]>`select context from decisions where id = ${r.body.decisionId}`;
    expect(row.context).toHaveLength(16);
    expect(Math.hypot(...row.context)).toBeCloseTo(1, 9);

    const metrics = (await admin.get('/metrics')).body as string;
    expect(metrics).toMatch(/router_embeddings_calls_total\{model="emb",outcome="ok"\} 1\b/);
    expect(metrics).toMatch(/router_embeddings_cache_total\{result="hit"\} 2\b/);
    expect(metrics).toMatch(/router_embeddings_duration_seconds_count\{model="emb",outcome="ok"\} 1\b/);
  });

  it("charges the key whose route made an embeddings call, and keeps each owner's cached embeddings apart", async () => {
    const pricing = { inputPerMTok: 1000, outputPerMTok: 1000 };
    expect((await admin.put('/admin/models/emb-priced', { baseUrl: `${emb.url}/v1`, upstreamModel: 'fake-embed', apiKeyEnv: KEY_ENV, pricing })).status).toBe(
      200,
    );
    expect((await admin.put('/admin/policies/priced', { algorithm: 'linucb', arms: ['small', 'large'], features: features('emb-priced') })).status).toBe(201);
    const key = async (name: string, limits?: object) => {
      const k = await admin.post('/admin/keys', { name, scope: 'route', ...(limits ? { limits } : {}) });
      return { id: k.body.id as string, c: client(svc.url, k.body.secret) };
    };
    const [a, b] = [await key('emb-tenant-a'), await key('emb-tenant-b')];
    const usage = async (id: string) => (await admin.get(`/admin/keys/${id}/usage`)).body.models;
    const route = (k: { c: ReturnType<typeof client> }, input: string) => k.c.post('/v1/route', { policy: 'priced', input });
    const before = emb.calls.length;
    expect((await route(a, 'What is the capital of Peru?')).body.featureSource).toBe('embeddings');
    expect((await route(a, 'What is the capital of Peru?')).body.featureSource).toBe('embeddings');
    expect(emb.calls.length).toBe(before + 1); // the second from a's cache
    // The fake counts 3 tokens a text: one call charged at the model's input price, as a direct call of that model.
    const one = { model: 'emb-priced', requests: 1, failed: 0, inputTokens: 3, outputTokens: 0, costUsd: expect.closeTo(0.003, 12) };
    await eventually(async () => (await usage(a.id)).length === 1);
    expect(await usage(a.id)).toEqual([expect.objectContaining(one)]);
    // Another owner's identical text is not answered from a's cache: its own call, charged to it.
    expect((await route(b, 'What is the capital of Peru?')).body.featureSource).toBe('embeddings');
    expect(emb.calls.length).toBe(before + 2);
    await eventually(async () => (await usage(b.id)).length === 1);
    expect(await usage(b.id)).toEqual([expect.objectContaining(one)]);
    // The tokens count toward the key's limits: past 5 tokens a minute, its routes are refused.
    const limited = await key('emb-tenant-c', { tokensPerMinute: 5 });
    for (const q of ['first question', 'second question']) expect((await route(limited, q)).status).toBe(200);
    await eventually(async () => (await route(limited, 'third question')).status === 429, 5000);
  });

  it('embeds the messages of a proxied chat completion the same way', async () => {
    const before = emb.calls.length;
    const r = await admin.post('/v1/chat/completions', { model: 'router/emb', messages: [{ role: 'user', content: 'Write a haiku about rain' }] });
    expect(r.status).toBe(200);
    expect(emb.calls.length).toBe(before + 1);
    expect(emb.calls[emb.calls.length - 1].input).toBe('Write a haiku about rain');
  });

  it('answers within the time limit when the embeddings upstream is slow, reporting the fallback', async () => {
    await admin.post('/v1/route', { policy: 'emb', input: 'warm-up' });
    const times = await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => {
        const t0 = performance.now();
        const r = await admin.post('/v1/route', { policy: 'slow', input: `a slow one #${i}` });
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ featureSource: 'fallback', featureFallbackReason: 'timeout' });
        expect(['small', 'large']).toContain(r.body.model);
        return performance.now() - t0;
      }),
    );
    console.log(`slow embeddings upstream (1000 ms, limit ${TIMEOUT_MS} ms): routes answered in ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(t).toBeLessThan(TIMEOUT_MS + 250);
    }
    const metrics = (await admin.get('/metrics')).body as string;
    expect(metrics).toMatch(/router_embeddings_calls_total\{model="emb-slow",outcome="timeout"\} 5\b/);
    expect(metrics).toMatch(/router_feature_fallbacks_total\{policy="slow",reason="timeout"\} 5\b/);
  });

  it("holds one tenant's calls to its share of the upstream's connections: beyond it, `busy` at once; another tenant is not", async () => {
    // A replica that waits for embeddings longer than this upstream takes (1 s): each call then holds its connection
    // until answered, so the 80 need not reach the api within one 150 ms limit for the share to fill.
    const patient = await startService(env, 0, { EMBEDDINGS_TIMEOUT_MS: '5000', EMBEDDINGS_CACHE_ENTRIES: '1000' });
    try {
      const key = async (name: string) => (await admin.post('/admin/keys', { name, scope: 'route', policies: ['slow'] })).body.secret as string;
      const [flood, calm] = [client(patient.url, await key('flood')), client(patient.url, await key('calm'))];
      // 80 new texts at once from one tenant: at most 64 of its calls (half of the 128 connections) are out at
      // once, the rest fall back as busy without a call; a call of another tenant meanwhile goes out and is answered.
      const calls = emb.calls.length;
      emb.resetPeak();
      const flooding = Promise.all(Array.from({ length: 80 }, (_, i) => flood.post('/v1/route', { policy: 'slow', input: `flood #${i}` })));
      await eventually(async () => emb.calls.length >= calls + 64, 5_000, 5);
      const other = await calm.post('/v1/route', { policy: 'slow', input: 'calm' });
      const reasons = (await flooding).map((r) => r.body.featureFallbackReason as string | undefined);
      const busy = reasons.filter((r) => r === 'busy').length;
      console.log(`one tenant's 80 concurrent new texts: ${busy} busy, ${reasons.length - busy} called, at most ${emb.peak()} calls open at once`);
      expect(busy).toBe(16);
      expect(reasons.filter((r) => r === undefined).length).toBe(64);
      expect(emb.peak()).toBe(64 + 1);
      expect(other.body).toMatchObject({ featureSource: 'embeddings' });
      expect(other.body.featureFallbackReason).toBeUndefined();
      expect(emb.calls.length).toBe(calls + 64 + 1);
    } finally {
      await patient.close();
    }
  });

  it('answers at once with the fallback when the embeddings upstream fails', async () => {
    const t0 = performance.now();
    const r = await admin.post('/v1/route', { policy: 'broken', input: 'anything' });
    const ms = performance.now() - t0;
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ featureSource: 'fallback', featureFallbackReason: 'error' });
    expect(ms).toBeLessThan(TIMEOUT_MS + 250);
    const metrics = (await admin.get('/metrics')).body as string;
    expect(metrics).toMatch(/router_embeddings_calls_total\{model="emb-broken",outcome="error"\} 1\b/);
  });

  it('learns nothing from fallback decisions, while the same traffic with embeddings is learnt', async () => {
    for (const name of ['broken', 'emb']) expect((await admin.post(`/admin/policies/${name}/reset`)).status).toBe(200);
    const N = 12;
    const ids: Record<string, string[]> = { broken: [], emb: [] };
    for (let i = 0; i < N; i++)
      for (const policy of ['broken', 'emb']) {
        const r = await admin.post('/v1/route', { policy, input: `learning prompt ${i}` });
        expect(r.status).toBe(200);
        expect(r.body.featureSource).toBe(policy === 'emb' ? 'embeddings' : 'fallback');
        ids[policy].push(r.body.decisionId);
      }
    for (const policy of ['broken', 'emb'])
      expect((await admin.post('/v1/feedback/batch', { events: ids[policy].map((decisionId) => ({ decisionId, reward: 1 })) })).status).toBe(202);
    const stats = async (policy: string) => (await admin.get(`/admin/policies/${policy}/stats`)).body;
    // Both policies' feedback has been through the worker's learning pass.
    await eventually(async () => (await stats('broken')).events?.learned === N && (await stats('emb')).events?.learned === N, 30_000);
    const learnt = await stats('emb');
    const fallback = await stats('broken');
    expect(learnt.decisions).toBe(N);
    expect(learnt.feedback).toBe(N);
    expect(fallback.decisions).toBe(0);
    expect(fallback.feedback).toBe(0);
    for (const a of fallback.arms) expect(a).toMatchObject({ pulls: 0, quality: { mean: null, count: 0 } });

    // The durable record says what happened: an empty context (nothing to learn from).
    const rows = await sql<{ n: number }[]>`select cardinality(context) as n from decisions where id = any(${ids.broken})`;
    expect(rows.map((r) => r.n)).toEqual(Array(N).fill(0));

    // A rebuild from the log agrees: the fallback decisions still teach nothing.
    expect((await admin.post('/admin/policies/broken/rebuild')).status).toBe(200);
    expect((await stats('broken')).decisions).toBe(0);
  }, 60_000);

  it('refuses a warm-start prior for an embeddings policy (400), and deleting the model a policy embeds with (409)', async () => {
    const prior = await admin.post('/admin/policies/emb/prior', { records: [{ input: 'hi', model: 'small', score: 1 }] });
    expect(prior.status).toBe(400);
    expect(prior.body.errors.map((e: { path: string }) => e.path)).toContain('records');
    expect((await admin.del('/admin/models/emb')).status).toBe(409);
  });

  it('falls back (config) when the model loses its baseUrl, and starts a new epoch when the policy changes model', async () => {
    expect((await admin.put('/admin/models/emb-broken', {})).status).toBe(200);
    const r = await admin.post('/v1/route', { policy: 'broken', input: 'no url now' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ featureSource: 'fallback', featureFallbackReason: 'config' });
    const before = (await admin.get('/admin/policies/emb')).body.epoch;
    const put = await admin.put('/admin/policies/emb', { algorithm: 'linucb', arms: ['small', 'large'], features: features('emb-slow') });
    expect(put.status).toBe(200);
    expect(put.body.epoch).toBe(before + 1);
  });
});
