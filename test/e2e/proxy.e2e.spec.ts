import OpenAI from 'openai';
import { ADMIN_KEY, client, eventually, freshEnvironment, type Running, settled, startService } from '../support/harness.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';

/**
 * The OpenAI-compatible proxy end to end: the official `openai` client → our api → a local OpenAI-compatible
 * upstream (started here) → usage events through the queue and worker into the decision's heads.
 */
describe('OpenAI-compatible proxy', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let admin: ReturnType<typeof client>;
  let up: FakeUpstream;
  let oa: OpenAI;

  beforeAll(async () => {
    up = await startFakeUpstream({ chunkDelayMs: 300 });
    env = await freshEnvironment('proxy');
    svc = await startService(env, 1, {
      BREAKER_THRESHOLD: '3',
      BREAKER_COOLDOWN_MS: '1500',
      PROXY_TTFT_TIMEOUT_MS: '400',
      PROXY_TIMEOUT_MS: '3000',
      DEFAULT_REWARD_SWEEP_MS: '300',
    });
    admin = client(svc.url);
    const pricing = { inputPerMTok: 1, outputPerMTok: 2 };
    for (const m of ['alpha', 'beta', 'flaky', 'down1', 'down2'])
      expect(
        (await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${m}`, pricing, energy: { joulesPerOutputToken: 0.5 } })).status,
      ).toBe(200);
    expect((await admin.put('/admin/policies/chat', { algorithm: 'linucb', arms: ['alpha', 'beta'] })).status).toBe(201);
    expect((await admin.put('/admin/policies/fallback', { algorithm: 'linucb', arms: ['flaky', 'alpha'] })).status).toBe(201);
    expect((await admin.put('/admin/policies/dead', { algorithm: 'linucb', arms: ['down1', 'down2'] })).status).toBe(201);
    oa = new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
  });

  afterAll(async () => {
    await svc.close();
    await env.drop();
    await up.close();
  });

  it('answers a normal completion through the official client, with the router headers', async () => {
    const { data, response } = await oa.chat.completions
      .create({ model: 'router/chat', messages: [{ role: 'user', content: 'Say hello' }], temperature: 0.2 })
      .withResponse();
    const model = response.headers.get('x-router-model');
    expect(['alpha', 'beta']).toContain(model);
    expect(data.model).toBe(model);
    expect(data.choices[0].message.content).toBe(`Hello from up-${model}!`);
    expect(data.usage?.completion_tokens).toBe(4);
    expect(response.headers.get('x-router-decision-id')).toMatch(/^dec_/);
  });

  it('streams server-sent events as they arrive (first chunk not held back)', async () => {
    const t0 = Date.now();
    const stream = await oa.chat.completions.create({ model: 'router/chat', messages: [{ role: 'user', content: 'Stream please' }], stream: true });
    const times: number[] = [];
    let text = '';
    for await (const chunk of stream) {
      times.push(Date.now() - t0);
      text += chunk.choices[0]?.delta?.content ?? '';
      expect(['alpha', 'beta']).toContain(chunk.model);
    }
    expect(text).toMatch(/^Hello from up-(alpha|beta)!$/);
    // The upstream waits 300 ms between chunks: the first must arrive long before the last.
    expect(times[times.length - 1] - times[0]).toBeGreaterThan(600);
    expect(times[0]).toBeLessThan(times[times.length - 1] - 600);
  });

  it("charges a stream the usage its upstream reports: asked for on the client's behalf and kept from a client that did not ask", async () => {
    const pricing = { inputPerMTok: 1, outputPerMTok: 2 };
    for (const [m, extra] of [
      ['counted', {}],
      ['refuses', { streamUsage: false }],
    ] as const) {
      expect((await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${m}`, pricing, ...extra })).status).toBe(200);
      expect((await admin.put(`/admin/policies/only-${m}`, { algorithm: 'linucb', arms: [m] })).status).toBe(201);
    }
    const stream = async (policy: string, extra: object = {}) => {
      const res = await fetch(`${svc.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: `router/${policy}`, messages: [{ role: 'user', content: 'Stream please' }], stream: true, ...extra }),
      });
      expect(res.status).toBe(200);
      const events = (await res.text()).split('\n\n').filter(Boolean);
      return events.filter((e) => e !== 'data: [DONE]').map((e) => JSON.parse(e.slice(6)) as { choices: unknown[]; usage?: unknown });
    };
    const cost = async (policy: string) => {
      let c = { mean: 0, count: 0 };
      await eventually(async () => {
        c = (await admin.get(`/admin/policies/${policy}/stats`)).body.arms[0].costUsd;
        return c.count === 1;
      });
      return c.mean;
    };

    // The client did not ask: the upstream was asked, the client sees no usage (every chunk has choices).
    const plain = await stream('only-counted', { stream_options: { other: 'kept' } });
    expect(up.lastBodies.get('up-counted')?.stream_options).toEqual({ other: 'kept', include_usage: true });
    expect(plain.length).toBeGreaterThan(0);
    expect(plain.every((c) => c.choices.length > 0 && !('usage' in c))).toBe(true);
    // Charged what the upstream reported: 7 prompt tokens at $1/M + 4 completion tokens at $2/M.
    expect(await cost('only-counted')).toBeCloseTo((7 * 1 + 4 * 2) / 1e6, 12);
    // A client that asks gets the upstream's usage chunk.
    const asked = await stream('only-counted', { stream_options: { include_usage: true } });
    expect(asked.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 4 } });
    // null is "not set" (generated clients send it): asked all the same, else any client could turn its metering off.
    const unset = await stream('only-counted', { stream_options: null });
    expect(up.lastBodies.get('up-counted')?.stream_options).toEqual({ include_usage: true });
    expect(unset.every((c) => c.choices.length > 0 && !('usage' in c))).toBe(true);
    // A model whose upstream refuses the field: nothing added, the stream charged by estimate.
    await stream('only-refuses');
    expect(up.lastBodies.get('up-refuses')).not.toHaveProperty('stream_options');
    expect(await cost('only-refuses')).not.toBeCloseTo((7 * 1 + 4 * 2) / 1e6, 12);
  });

  it('relays a stream its upstream answered as one JSON completion as the events of that completion', async () => {
    expect(
      (await admin.put('/admin/models/jsononly', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-jsononly', pricing: { inputPerMTok: 1, outputPerMTok: 2 } }))
        .status,
    ).toBe(200);
    expect((await admin.put('/admin/policies/only-jsononly', { algorithm: 'linucb', arms: ['jsononly'] })).status).toBe(201);
    up.setMode('up-jsononly', 'no-stream');
    const chunks: string[] = [];
    let usage: unknown;
    const stream = await oa.chat.completions.create({
      model: 'router/only-jsononly',
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const c of stream) {
      expect(c.model).toBe('jsononly');
      chunks.push(...c.choices.map((ch) => ch.delta.content ?? ''));
      if (c.usage) usage = c.usage;
    }
    expect(chunks.join('')).toBe('Hello from up-jsononly!');
    expect(usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 4 });
    await eventually(async () => (await admin.get('/admin/policies/only-jsononly/stats')).body.arms[0].costUsd.count === 1);
    expect((await admin.get('/admin/policies/only-jsononly/stats')).body.arms[0].costUsd.mean).toBeCloseTo((7 * 1 + 4 * 2) / 1e6, 12);

    // A 2xx whose JSON is an error object is no answer: the call fails (here, its only model: 502) and says why.
    up.setMode('up-jsononly', 'json-error');
    const failed = await fetch(`${svc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'router/only-jsononly', messages: [{ role: 'user', content: 'Stream please' }], stream: true }),
    });
    expect(failed.status).toBe(502);
    expect(((await failed.json()) as { error: { message: string } }).error.message).toContain('no choices');
    // Events sent under another content type are relayed as they come.
    up.setMode('up-jsononly', 'sse-as-text');
    const relayed = await oa.chat.completions.create({ model: 'router/only-jsononly', messages: [{ role: 'user', content: 'Stream please' }], stream: true });
    let text = '';
    for await (const c of relayed) text += c.choices.map((ch) => ch.delta.content ?? '').join('');
    expect(text).toBe('Hello from up-jsononly!');
    up.setMode('up-jsononly', 'ok');
  });

  it('fails an attempt whose 2xx is no answer (an error object, a stream of only an error event or of nothing) or a redirect; a stream that errs once begun is a failed call', async () => {
    const messages = [{ role: 'user', content: 'hello' }];
    const post = (body: object) =>
      fetch(`${svc.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messages, ...body }),
      });
    const failures = async (m: string) => (await admin.get(`/admin/models/${m}`)).body.breaker.failures as number;
    // `steady` is dear: each policy below tries its free shaky model first (no exploration), then falls back.
    const dear = { pricing: { inputPerMTok: 100, outputPerMTok: 100 } };
    expect((await admin.put('/admin/models/steady', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-steady', ...dear })).status).toBe(200);
    const cases = [
      ['json-error', false],
      ['sse-error-first', true],
      ['sse-error-choices', true],
      ['sse-empty', true],
      ['redirect', false],
      ['redirect', true],
    ] as const;
    for (const [i, [mode, stream]] of cases.entries()) {
      const m = `shaky-${i}`;
      expect((await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${m}` })).status).toBe(200);
      const policy = { algorithm: 'linucb', arms: [m, 'steady'], objective: { quality: 1, cost: 1 }, params: { epsilon: 0 } };
      expect((await admin.put(`/admin/policies/p-${m}`, policy)).status).toBe(201);
      up.setMode(`up-${m}`, mode);
      // Routed: the shaky model is tried, fails, and the other one answers.
      const tried = up.hits.get(`up-${m}`) ?? 0;
      const routed = await post({ model: `router/p-${m}`, stream });
      expect([mode, stream, routed.status, routed.headers.get('x-router-model')]).toEqual([mode, stream, 200, 'steady']);
      expect(await routed.text()).toContain(stream ? 'up-steady' : 'Hello from up-steady!');
      expect(up.hits.get(`up-${m}`)! - tried).toBeGreaterThanOrEqual(1);
      // Alone: 502, counted against the model.
      const direct = await post({ model: m, stream });
      expect([mode, stream, direct.status]).toEqual([mode, stream, 502]);
      await direct.text();
      expect(await failures(m)).toBeGreaterThanOrEqual(1);
    }
    // An error event after the answer began: relayed as it came (nothing can fall back), and the call failed.
    expect((await admin.put('/admin/models/shaky-mid', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-shaky-mid' })).status).toBe(200);
    up.setMode('up-shaky-mid', 'sse-error-mid');
    const mid = await post({ model: 'shaky-mid', stream: true });
    expect(mid.status).toBe(200);
    const text = await mid.text();
    expect(text).toContain('Once');
    expect(text).toContain('model overloaded');
    expect(text).not.toContain('upstream failed mid-stream');
    expect(await failures('shaky-mid')).toBe(1);
    // An upstream that ends mid-answer (no finish, no [DONE]) broke off: the client is told, and the call failed.
    expect((await admin.put('/admin/models/shaky-cut', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-shaky-cut' })).status).toBe(200);
    up.setMode('up-shaky-cut', 'sse-truncated');
    const cutShort = await (await post({ model: 'shaky-cut', stream: true })).text();
    expect([cutShort.includes('Once'), cutShort.includes('upstream failed mid-stream'), cutShort.includes('[DONE]')]).toEqual([true, true, false]);
    expect(await failures('shaky-cut')).toBe(1);
    // A stream its upstream ended without [DONE] still ends with it.
    up.setMode('up-steady', 'sse-no-done');
    const undone = await (await post({ model: 'steady', stream: true })).text();
    expect([undone.match(/data: \[DONE\]/g)?.length, undone.endsWith('data: [DONE]\n\n'), undone]).toEqual([1, true, expect.stringContaining('Hello')]);
    up.setMode('up-steady', 'ok');
    expect((await (await post({ model: 'steady', stream: true })).text()).match(/data: \[DONE\]/g)).toHaveLength(1);
  });

  it('lists router/<policy> models for the key', async () => {
    const list = await oa.models.list();
    const ids = list.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['router/chat', 'router/fallback', 'router/dead']));
    const limited = await admin.post('/admin/keys', { name: 'app', scope: 'route', policies: ['chat'] });
    expect(limited.status).toBe(201);
    const mine = await client(svc.url, limited.body.secret).get('/v1/models');
    // then the models the key may call directly: the arms of its policy
    expect(mine.body.data.map((m: { id: string }) => m.id)).toEqual(['router/chat', 'alpha', 'beta']);
  });

  it('records tokens, cost and latency on the decision; the energy head gets the J/token prior until a reading replaces it', async () => {
    const totals = async () => {
      const st = (await admin.get('/admin/policies/chat/stats')).body;
      const sum = (k: 'costUsd' | 'latencyMs' | 'energyJoules') => st.arms.reduce((s: number, a: Record<string, { count: number }>) => s + a[k].count, 0);
      return { cost: sum('costUsd'), latency: sum('latencyMs'), energy: sum('energyJoules'), arms: st.arms };
    };
    // Earlier tests' usage events may still be in flight: start from a settled state.
    const quiet = () => settled(totals, ['cost', 'energy', 'latency']);
    const start = await quiet();
    for (let i = 0; i < 4; i++) await oa.chat.completions.create({ model: 'router/chat', messages: [{ role: 'user', content: `usage ${i}` }] });
    await eventually(async () => {
      const t = await totals();
      return t.cost === start.cost + 4 && t.latency === start.latency + 4 && t.energy === start.energy + 4;
    });
    const used = (await totals()).arms.find((a: { costUsd: { count: number } }) => a.costUsd.count > 0);
    // 7 prompt tokens at $1/M + 4 completion tokens at $2/M
    expect(used.costUsd.mean).toBeCloseTo((7 * 1 + 4 * 2) / 1e6, 12);
    expect(used.latencyMs.mean).toBeGreaterThan(0);
    // Energy: 0.5 J/token × 4 output tokens until a measured reading replaces it (same count, new value).
    expect(used.energyJoules.mean).toBeCloseTo(2, 9);
    const mid = await quiet();
    const { response } = await oa.chat.completions.create({ model: 'router/chat', messages: [{ role: 'user', content: 'measure me' }] }).withResponse();
    await eventually(async () => (await totals()).energy === mid.energy + 1);
    const model = response.headers.get('x-router-model')!;
    const arm = async () => (await totals()).arms.find((a: { model: string }) => a.model === model).energyJoules as { mean: number; count: number };
    const before = await arm();
    expect((await admin.post('/v1/energy', { decisionId: response.headers.get('x-router-decision-id'), joules: 10 })).status).toBe(202);
    await eventually(async () => {
      const now = await arm();
      return Math.abs(now.mean * now.count - (before.mean * before.count - 2 + 10)) < 1e-9;
    });
    expect((await arm()).count).toBe(before.count);
  });

  it('retries once, falls back to the next-best model, opens the breaker, and closes it after a good probe', async () => {
    up.setMode('up-flaky', 'error500');
    const served: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { response } = await oa.chat.completions.create({ model: 'router/fallback', messages: [{ role: 'user', content: `q ${i}` }] }).withResponse();
      served.push(response.headers.get('x-router-model')!);
    }
    expect(served.every((m) => m === 'alpha')).toBe(true);
    await eventually(async () => (await admin.get('/admin/models/flaky')).body.breaker.state === 'open');
    const hitsWhenOpen = up.hits.get('up-flaky')!;
    // threshold 3 consecutive failures, each request retries once: at most 4 calls reached the broken model
    expect(hitsWhenOpen).toBeGreaterThanOrEqual(3);
    expect(hitsWhenOpen).toBeLessThanOrEqual(4);
    for (let i = 0; i < 5; i++) await oa.chat.completions.create({ model: 'router/fallback', messages: [{ role: 'user', content: `open ${i}` }] });
    expect(up.hits.get('up-flaky')).toBe(hitsWhenOpen); // out of routing while open
    const list = (await admin.get('/admin/models')).body.models;
    expect(list.find((m: { id: string }) => m.id === 'flaky').breaker.state).toBe('open');

    up.setMode('up-flaky', 'ok');
    await new Promise((r) => setTimeout(r, 1700)); // cool-down
    await eventually(async () => {
      await oa.chat.completions.create({ model: 'router/fallback', messages: [{ role: 'user', content: 'probe?' }] });
      return (await admin.get('/admin/models/flaky')).body.breaker.state === 'closed';
    }, 20_000);
    const metrics = (await client(svc.url).get('/metrics')).body as string;
    expect(metrics).toMatch(/router_fallbacks_total\{policy="fallback"\} [1-9]/);
    expect(metrics).toMatch(/router_upstream_errors_total\{model="flaky",endpoint="chat\/completions",reason="status"\} [1-9]/);
  }, 60_000);

  it("a caller whose own calls fail cannot take a working model from others: the router checks it; no tenant's call is the half-open probe", async () => {
    const pricing = { inputPerMTok: 1, outputPerMTok: 2 };
    expect((await admin.put('/admin/models/probed', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-probed', pricing })).status).toBe(200);
    const call = (content: string) => admin.post('/v1/chat/completions', { model: 'probed', messages: [{ role: 'user', content }] });
    const other = client(svc.url, (await admin.post('/admin/keys', { name: 'bystander', scope: 'route' })).body.secret as string);
    const otherCall = () => other.post('/v1/chat/completions', { model: 'probed', messages: [{ role: 'user', content: 'another tenant' }] });
    const breaker = async () =>
      (await admin.get('/admin/models/probed')).body.breaker as { state: string; failures: number; openedAt: number; tenantsOut?: number };
    const metric = async (re: RegExp) => Number(re.exec((await admin.get('/metrics')).body as string)?.[1] ?? 0);
    const probes = () => metric(/^router_breaker_probes_total\{breaker="probed",outcome="up"\} (\d+)$/m);
    const checks = () => metric(/^router_breaker_checks_total\{breaker="probed",outcome="up"\} (\d+)$/m);
    const outs = () => metric(/^router_breaker_tenant_outs_total\{breaker="probed"\} (\d+)$/m);
    const keptOff = "this tenant's recent calls of the model failed";
    // A caller's calls hang past the whole-call limit (3 at once; a non-streamed answer's first byte is all of it, and
    // a call out of time is not asked again, which would generate the same long answer twice): at the threshold the
    // router checks the model itself (a one-token "ping", answered). The model stays in for everyone; only that
    // caller is out of it for a cool-down. Before, its failures opened the breaker for every tenant.
    await Promise.all([0, 1, 2].map((i) => call(`[hang] ${i}`)));
    await eventually(async () => (await breaker()).tenantsOut === 1);
    expect(await breaker()).toMatchObject({ state: 'closed', failures: 0 });
    expect(await checks()).toBe(1);
    expect(await probes()).toBe(0);
    expect(await outs()).toBe(1);
    const sent = up.hits.get('up-probed');
    const refused = await call('refused while out');
    expect(refused.status).toBe(502);
    expect(JSON.stringify(refused.body)).toContain(keptOff);
    expect(up.hits.get('up-probed')).toBe(sent); // refused without a call
    expect((await otherCall()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1700)); // past the 1.5 s cool-down
    expect((await call('back after the cool-down')).status).toBe(200);
    expect((await breaker()).tenantsOut).toBeUndefined();

    // The same with parameters the upstream answers with a 500 (`[boom]`), through a policy: the caller's routed
    // calls fall back to the other model meanwhile, and another tenant's routed calls keep both.
    expect((await admin.put('/admin/policies/shielded', { algorithm: 'linucb', arms: ['probed', 'alpha'] })).status).toBe(201);
    await eventually(async () => (await admin.get('/admin/policies/shielded')).status === 200);
    await Promise.all([0, 1].map((i) => call(`[boom] ${i}`)));
    await eventually(async () => (await breaker()).tenantsOut === 1);
    expect(await checks()).toBe(2);
    expect((await breaker()).state).toBe('closed');
    for (let i = 0; i < 4; i++) {
      const routed = await admin.post('/v1/chat/completions', { model: 'router/shielded', messages: [{ role: 'user', content: `mine ${i}` }] });
      expect(routed.status).toBe(200);
      expect(routed.headers.get('x-router-model')).toBe('alpha');
    }
    const models = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const theirs = await other.post('/v1/route', { policy: 'shielded', input: `theirs ${i}` });
      expect(theirs.status).toBe(200);
      models.add(theirs.body.model as string);
    }
    expect([...models].sort()).toEqual(['alpha', 'probed']);
    await new Promise((r) => setTimeout(r, 1700));

    // A model that fails the check opens for everyone; past the cool-down the router's own check is the half-open
    // probe: a caller's hanging call then fails as a call, not as the probe (before, its failure re-opened the
    // breaker for everyone, cool-down after cool-down).
    up.setMode('up-probed', 'error500');
    await Promise.all([0, 1].map((i) => call(`fail ${i}`)));
    await eventually(async () => (await breaker()).state === 'open');
    expect((await otherCall()).status).toBe(502);
    await new Promise((r) => setTimeout(r, 1700));
    up.setMode('up-probed', 'ok');
    const before = await probes();
    const hung = call('[hang] after the cool-down');
    await eventually(async () => (await breaker()).state === 'closed', 1000);
    expect(await probes()).toBe(before + 1);
    expect((await otherCall()).status).toBe(200);
    expect((await hung).status).toBe(502);
    expect((await breaker()).state).toBe('closed');
    // An upstream that refuses the ping itself (a 4xx) answers: it is up, as a relayed 4xx never blames a model.
    up.setMode('up-probed', 'error500');
    await Promise.all([0, 1].map((i) => call(`fail again ${i}`)));
    await eventually(async () => (await breaker()).state === 'open');
    await new Promise((r) => setTimeout(r, 1700));
    up.setMode('up-probed', 'error400');
    expect((await call('refused by the upstream')).status).toBe(400);
    expect((await breaker()).state).toBe('closed');
    up.setMode('up-probed', 'ok');
  }, 30_000);

  it("a stream cut by the proxy's timeout while its upstream still sends is not the model's failure (a stalled one is); its caller is served again past the cool-down", async () => {
    const pricing = { inputPerMTok: 1, outputPerMTok: 2 };
    for (const m of ['storyteller', 'staller'])
      expect((await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${m}`, pricing })).status).toBe(200);
    const headers = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
    const stream = (model: string, signal?: AbortSignal) =>
      fetch(`${svc.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'a long story' }], stream: true }),
        signal,
      });
    const breaker = async (m: string) => (await admin.get(`/admin/models/${m}`)).body.breaker.state as string;
    const plain = (m: string) => admin.post('/v1/chat/completions', { model: m, messages: [{ role: 'user', content: 'short' }] });

    // Four generations longer than PROXY_TIMEOUT_MS (3 s), chunks every 100 ms: each is cut, none counts against the
    // model (threshold 3), and other callers keep it.
    up.setMode('up-storyteller', 'trickle');
    const told = await Promise.all([0, 1, 2, 3].map(async () => (await stream('storyteller')).text()));
    for (const t of told) expect(t).toMatch(/upon a time[\s\S]*upstream failed mid-stream: upstream timed out/);
    expect(await breaker('storyteller')).toBe('closed');
    expect((await plain('storyteller')).status).toBe(200);

    // Three streams silent since their first chunk for longer than the TTFT limit (400 ms) when cut: failures. The
    // router's check then finds the model answering, so only this caller is out of it for a cool-down. A fourth,
    // admitted a second later, fails after that: its late failure changes nothing (before, a caller's stragglers
    // restarted the cool-down of an open breaker, and kept a healthy model out for as long as they kept coming).
    up.setMode('up-staller', 'stall');
    const stalled = [0, 1, 2].map(async () => (await stream('staller')).text());
    await new Promise((r) => setTimeout(r, 1000));
    const straggler = stream('staller').then((r) => r.text());
    const view = async () => (await admin.get('/admin/models/staller')).body.breaker as { state: string; failures: number; tenantsOut?: number };
    await eventually(async () => (await view()).tenantsOut === 1);
    const outAt = Date.now();
    const opened = await view();
    expect(opened.state).toBe('closed');
    expect((await plain('staller')).status).toBe(502);
    const other = client(svc.url, (await admin.post('/admin/keys', { name: 'listener', scope: 'route' })).body.secret as string);
    expect((await other.post('/v1/chat/completions', { model: 'staller', messages: [{ role: 'user', content: 'short' }] })).status).toBe(200);
    await Promise.all([...stalled, straggler]);
    // (The out itself may have ended by now on a slow machine: compare the counts.)
    const after = await view();
    expect([after.state, after.failures]).toEqual([opened.state, opened.failures]);

    // Past the cool-down the caller's long stream is served again, and goes on past its first chunk.
    await new Promise((r) => setTimeout(r, Math.max(0, outAt + 1600 - Date.now())));
    up.setMode('up-staller', 'trickle');
    const ac = new AbortController();
    const back = await stream('staller', ac.signal);
    expect(back.status).toBe(200);
    const reader = back.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('Once');
    expect((await plain('staller')).status).toBe(200);
    ac.abort();
  }, 30_000);

  it('credits the model that answered: a fallback answer teaches the fallback, never the failed pick', async () => {
    const pricing = { inputPerMTok: 1, outputPerMTok: 2 };
    expect((await admin.put('/admin/models/broken', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-broken', pricing })).status).toBe(200);
    expect((await admin.put('/admin/policies/credit', { algorithm: 'linucb', arms: ['broken', 'beta'], params: { alpha: 5 } })).status).toBe(201);
    up.setMode('up-broken', 'error500');
    const N = 8;
    const picks: string[] = [];
    for (let i = 0; i < N; i++) {
      const { data, response } = await oa.chat.completions
        .create({ model: 'router/credit', messages: [{ role: 'user', content: `credit ${i}` }], stream: i % 2 === 1 })
        .withResponse();
      // A stream read to its end (one left unread may be cancelled by the client before it ends: a failed call).
      if (Symbol.asyncIterator in data) for await (const _chunk of data) void _chunk;
      expect(response.headers.get('x-router-model')).toBe('beta');
      const decisionId = response.headers.get('x-router-decision-id')!;
      expect((await admin.post('/v1/feedback', { decisionId, thumb: 'up' })).status).toBe(202);
      expect((await admin.post('/v1/energy', { decisionId, joules: 7 })).status).toBe(202);
      picks.push(decisionId);
    }
    const arm = async (m: string) => (await admin.get('/admin/policies/credit/stats')).body.arms.find((a: { model: string }) => a.model === m);
    await eventually(async () => {
      const b = await arm('beta');
      return b.pulls === N && b.quality.count === N && b.energyJoules.count === N && b.costUsd.count === N;
    });
    const broken = await arm('broken');
    expect([broken.pulls, broken.quality.count, broken.energyJoules.count, broken.costUsd.count, broken.latencyMs.count]).toEqual([0, 0, 0, 0, 0]);
    // The broken model was tried (it failed), so some of these decisions were fallbacks.
    expect(up.hits.get('up-broken')).toBeGreaterThan(0);
    up.setMode('up-broken', 'ok');
  }, 60_000);

  it("answers 502 in OpenAI's error shape naming every attempt when all candidates fail, without hanging", async () => {
    up.setMode('up-down1', 'hang');
    up.setMode('up-down2', 'reset');
    const t0 = Date.now();
    const r = await admin.post('/v1/chat/completions', { model: 'router/dead', messages: [{ role: 'user', content: 'anyone?' }] });
    expect(r.status).toBe(502);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.body.error).toMatchObject({ type: 'api_error', code: 'upstream_failed', param: null });
    const text = r.body.error.message as string;
    expect(text).toContain('down1');
    expect(text).toContain('down2');
    expect(Date.now() - t0).toBeLessThan(5000); // the whole-call limit (3 s) once, no second attempt after it
    const stream = await admin.post('/v1/chat/completions', { model: 'router/dead', messages: [{ role: 'user', content: 'x' }], stream: true });
    expect(stream.status).toBe(502);
  }, 30_000);

  it("falls back from a model whose upstream refuses the router's own key, and never says the caller's key is wrong", async () => {
    const pricing = { inputPerMTok: 1, outputPerMTok: 2 };
    for (const m of ['badkey', 'goodkey'])
      expect((await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${m}`, pricing })).status).toBe(200);
    up.setMode('up-badkey', 'error401');
    // The misconfigured model is the cheaper one and nothing explores: it is tried first, every time.
    expect(
      (await admin.put('/admin/models/goodkey', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-goodkey', pricing: { inputPerMTok: 50, outputPerMTok: 100 } }))
        .status,
    ).toBe(200);
    const policy = { algorithm: 'linucb', arms: ['badkey', 'goodkey'], objective: { quality: 1, cost: 1 }, params: { alpha: 0, epsilon: 0 } };
    const created = await admin.put('/admin/policies/keyed', policy);
    expect(created.status).toBe(201);
    // Called directly: a 502 naming the upstream's refusal, not the upstream's invalid_api_key as if it were the caller's.
    const direct = await admin.post('/v1/chat/completions', { model: 'badkey', messages: [{ role: 'user', content: 'direct' }] });
    expect([direct.status, direct.body.error.code]).toEqual([502, 'upstream_failed']);
    expect(direct.body.error.message).toContain('upstream answered 401');
    expect(JSON.stringify(direct.body)).not.toContain('invalid_api_key');
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(await admin.post('/v1/chat/completions', { model: 'router/keyed', messages: [{ role: 'user', content: `k${i}` }] }));
    expect(answers.map((a) => [a.status, a.headers.get('x-router-model')])).toEqual(Array(4).fill([200, 'goodkey']));
    // Tried once per call (no retry of a refusal that would repeat): the direct call and two routed ones reach the
    // breaker's threshold (3); the router's own check is refused too, and the model is kept off for everyone.
    expect(up.hits.get('up-badkey')).toBe(4);
    expect((await admin.get('/admin/models/badkey')).body.breaker).toMatchObject({ state: 'open' });
    up.setMode('up-badkey', 'ok');
  });

  it('gives a call its whole-call limit once, whatever its attempts: no fallback starts after it is used up', async () => {
    for (const [m, price] of [
      ['slowpoke', 1],
      ['unasked', 50],
    ] as const)
      expect(
        (await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${m}`, pricing: { inputPerMTok: price, outputPerMTok: price } }))
          .status,
      ).toBe(200);
    up.setMode('up-slowpoke', 'hang');
    // The hanging model is the cheaper one and nothing explores: it is tried first.
    const policy = { algorithm: 'linucb', arms: ['slowpoke', 'unasked'], objective: { quality: 1, cost: 1 }, params: { alpha: 0, epsilon: 0 } };
    expect((await admin.put('/admin/policies/deadline', policy)).status).toBe(201);
    const t0 = Date.now();
    const r = await admin.post('/v1/chat/completions', { model: 'router/deadline', messages: [{ role: 'user', content: 'take your time' }] });
    const ms = Date.now() - t0;
    expect([r.status, r.body.error.message]).toEqual([502, expect.stringContaining("unasked: the call's time limit was used up")]);
    // The suite's limit is 3 s: one hanging attempt uses it all; the second model is not called.
    expect(ms).toBeGreaterThanOrEqual(2900);
    expect(ms).toBeLessThan(5000);
    expect(up.hits.get('up-unasked') ?? 0).toBe(0);
    up.setMode('up-slowpoke', 'ok');
  }, 20_000);

  it('rests a model its upstream rate-limits for the wait asked, and tells the caller when to come back', async () => {
    const pricing = { inputPerMTok: 1, outputPerMTok: 2 };
    for (const m of ['limited', 'spare'])
      expect((await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${m}`, pricing })).status).toBe(200);
    up.setMode('up-limited', 'error429-wait');
    const hits = () => up.hits.get('up-limited') ?? 0;
    // Called directly: one attempt, then a 429 in OpenAI's shape with the upstream's wait.
    const direct = await admin.post('/v1/chat/completions', { model: 'limited', messages: [{ role: 'user', content: 'now?' }] });
    expect([direct.status, direct.body.error.type, direct.body.error.code]).toEqual([429, 'rate_limit_error', 'rate_limit_exceeded']);
    expect(Number(direct.headers.get('retry-after'))).toBeGreaterThanOrEqual(12);
    expect(Number(direct.headers.get('retry-after'))).toBeLessThanOrEqual(13);
    expect(hits()).toBe(1);
    // While it rests it is not asked again: a routed call goes to the other model, a direct one is told to wait.
    expect((await admin.put('/admin/policies/limits', { algorithm: 'linucb', arms: ['limited', 'spare'] })).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const r = await admin.post('/v1/chat/completions', { model: 'router/limits', messages: [{ role: 'user', content: `r${i}` }] });
      expect([r.status, r.headers.get('x-router-model')]).toEqual([200, 'spare']);
    }
    expect((await admin.post('/v1/chat/completions', { model: 'limited', messages: [{ role: 'user', content: 'again?' }] })).status).toBe(429);
    expect(hits()).toBe(1);
    // It rests for the tenant whose calls were limited (a 429 may be a request's own): another tenant's call goes
    // out, and finds the limit for itself.
    const other = client(svc.url, (await admin.post('/admin/keys', { name: 'other-limited', scope: 'route' })).body.secret as string);
    expect((await other.post('/v1/chat/completions', { model: 'limited', messages: [{ role: 'user', content: 'mine?' }] })).status).toBe(429);
    expect(hits()).toBe(2);
    // A rate limit is not a fault: the model's breaker counted nothing.
    expect((await admin.get('/admin/models/limited')).body.breaker).toMatchObject({ state: 'closed', failures: 0 });
    up.setMode('up-limited', 'ok');
  });

  it("relays a refusal of the caller's request in OpenAI's envelope whichever server sent it, and waits for a slow whole answer", async () => {
    const pricing = { inputPerMTok: 1, outputPerMTok: 2 };
    expect((await admin.put('/admin/models/vllm', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-vllm', pricing })).status).toBe(200);
    up.setMode('up-vllm', 'vllm-error400');
    const r = await admin.post('/v1/chat/completions', { model: 'vllm', messages: [{ role: 'user', content: 'too long' }] });
    expect([r.status, r.body.error]).toEqual([
      400,
      { message: "This model's maximum context length is 4096 tokens", type: 'BadRequestError', param: null, code: null },
    ]);
    // A non-streamed answer comes whole: one slower than the suite's 400 ms first-byte limit (but within the 3 s
    // whole-call limit) is waited for, not cut (the first-byte limit would cap every generation).
    const slow = await startFakeUpstream({ latencyMs: 900 });
    expect((await admin.put('/admin/models/patient', { baseUrl: `${slow.url}/v1`, upstreamModel: 'up-patient', pricing })).status).toBe(200);
    const waited = await admin.post('/v1/chat/completions', { model: 'patient', messages: [{ role: 'user', content: 'think long' }] });
    expect([waited.status, waited.body.choices?.[0]?.message?.content, slow.hits.get('up-patient')]).toEqual([200, 'Hello from up-patient!', 1]);
    await slow.close();
  });

  it('passes an upstream 4xx through without fallback, and validates its own input', async () => {
    up.setMode('up-alpha', 'error400');
    up.setMode('up-beta', 'error400');
    const r = await admin.post('/v1/chat/completions', { model: 'router/chat', messages: [{ role: 'user', content: 'bad params' }] });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe('fake 400');
    up.setMode('up-alpha', 'ok');
    up.setMode('up-beta', 'ok');
    for (const [body, field] of [
      [{ model: 'gpt 4', messages: [{ role: 'user', content: 'x' }] }, 'model'],
      [{ model: 'router/chat', messages: [] }, 'messages'],
      [{ model: 'router/chat', messages: [{ role: 'user', content: 'x' }], stream: 'yes' }, 'stream'],
      // Options the proxy reads to meter a stream: one it could not read would leave the stream unmetered.
      [{ model: 'router/chat', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: 'yes' }, 'stream_options'],
      [
        { model: 'router/chat', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: 'true' } },
        'stream_options.include_usage',
      ],
    ] as const) {
      const bad = await admin.post('/v1/chat/completions', body);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ type: 'invalid_request_error', param: field });
    }
    expect((await admin.post('/v1/chat/completions', { model: 'router/nope', messages: [{ role: 'user', content: 'x' }] })).status).toBe(404);
    // not a router: a direct call of a model id, unknown here
    expect((await admin.post('/v1/chat/completions', { model: 'gpt-4', messages: [{ role: 'user', content: 'x' }] })).status).toBe(404);
    expect((await client(svc.url, '').post('/v1/chat/completions', { model: 'router/chat', messages: [] })).status).toBe(401);
  });

  it('learns nothing from a call no model answered (a relayed 4xx, every attempt failed), not even a default reward', async () => {
    const pricing = { inputPerMTok: 1, outputPerMTok: 2 };
    for (const m of ['refuses', 'gone', 'fine'])
      expect((await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${m}`, pricing })).status).toBe(200);
    up.setMode('up-refuses', 'error400');
    up.setMode('up-gone', 'error500');
    const feedback = { windowSeconds: 1, defaultReward: 1 };
    expect((await admin.put('/admin/policies/unserved', { algorithm: 'linucb', arms: ['refuses', 'gone'], feedback })).status).toBe(201);
    // The control: the same default reward on a policy whose calls are answered.
    expect((await admin.put('/admin/policies/served', { algorithm: 'linucb', arms: ['fine'], feedback })).status).toBe(201);
    const ask = (model: string, i: number) => admin.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: `unserved ${i}` }] });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await ask('router/unserved', i);
      statuses.push(r.status);
      // Feedback on such a decision is taken (its id went out) but teaches nothing.
      if (i === 0) expect((await admin.post('/v1/feedback', { decisionId: r.headers.get('x-router-decision-id'), thumb: 'up' })).status).toBe(202);
    }
    // The 4xx is relayed (no fallback after it); once `gone`'s breaker is open, `refuses` answers every call with it.
    expect(new Set(statuses)).toEqual(new Set([400]));
    up.setMode('up-refuses', 'error500');
    for (let i = 6; i < 8; i++) expect((await ask('router/unserved', i)).status).toBe(502);
    // A stream whose client left before its first chunk: no answer either (the upstream call ends with it).
    const slow = await startFakeUpstream({ latencyMs: 300 }); // under the suite's 400 ms TTFT limit
    expect((await admin.put('/admin/models/slow-first', { baseUrl: `${slow.url}/v1`, upstreamModel: 'up-slow', pricing })).status).toBe(200);
    expect((await admin.put('/admin/policies/left', { algorithm: 'linucb', arms: ['slow-first'], feedback })).status).toBe(201);
    const body = JSON.stringify({ model: 'router/left', messages: [{ role: 'user', content: 'gone' }], stream: true });
    const init = { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body };
    await expect(fetch(`${svc.url}/v1/chat/completions`, { ...init, signal: AbortSignal.timeout(100) })).rejects.toThrow();
    for (let i = 0; i < 3; i++) expect((await ask('router/served', i)).status).toBe(200);
    const stats = async (p: string) => (await admin.get(`/admin/policies/${p}/stats`)).body;
    // The control's default rewards were swept, so the unserved decisions' windows (older) were swept too; then
    // several more sweeps (300 ms apart) pass with nothing changing.
    await eventually(async () => (await stats('served')).arms[0].quality.count === 3, 15_000);
    const counts = async (p: string) => {
      const s = await stats(p);
      return { s, learned: s.events.learned as number, stale: s.events.stale as number };
    };
    const { s } = await settled(() => counts('unserved'), ['learned', 'stale'], 1500);
    for (const a of s.arms) expect([a.model, a.pulls, a.quality.count, a.costUsd.count, a.latencyMs.count]).toEqual([a.model, 0, 0, 0, 0]);
    // Stored all the same: each call's usage (nothing to learn: stale), the one feedback (learnt as nothing); no
    // default reward was written for a decision without a context.
    expect(s.events).toMatchObject({ stale: 8, learned: 1 });
    expect([s.decisions, s.feedback]).toEqual([0, 0]);
    const left = (await settled(() => counts('left'), ['learned', 'stale'], 1500)).s;
    expect([left.arms[0].pulls, left.arms[0].quality.count, left.events.learned]).toEqual([0, 0, 0]);
    await slow.close();
    up.setMode('up-refuses', 'ok');
    up.setMode('up-gone', 'ok');
  }, 60_000);

  it('/metrics is Prometheus text and moves with traffic', async () => {
    const scrape = async () => (await client(svc.url).get('/metrics')).body as string;
    const count = (text: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('router_decisions_total{'))
        .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
    const before = await scrape();
    for (const line of before.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? -?([0-9.]+(e[-+]?[0-9]+)?|NaN|\+Inf|-Inf)$/);
    }
    await oa.chat.completions.create({ model: 'router/chat', messages: [{ role: 'user', content: 'count me' }] });
    const after = await scrape();
    expect(count(after)).toBe(count(before) + 1);
    expect(after).toContain('router_decision_duration_seconds_bucket');
    expect(after).toContain('router_queue_jobs');
    expect(after).toContain('router_breaker_open{model="alpha"} 0');
  });
});
