import postgres from 'postgres';
import { RouterClient } from '@app/client';
import { ADMIN_KEY, client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';

const MSG = [{ role: 'user', content: 'hello' }];
/** The fake upstream's usage: 7 input and 4 output tokens per call. */
const IN = 7;
const OUT = 4;
const PRICES: Record<string, { inputPerMTok: number; outputPerMTok: number }> = {
  small: { inputPerMTok: 1, outputPerMTok: 2 },
  large: { inputPerMTok: 10, outputPerMTok: 20 },
  flaky: { inputPerMTok: 1, outputPerMTok: 1 },
};
const cost = (m: string) => (IN * PRICES[m].inputPerMTok + OUT * PRICES[m].outputPerMTok) / 1e6;

/**
 * Spend per key and model from the usage events of proxied and direct calls: GET /admin/keys/{id}/usage through
 * the real app (events through the queue and worker into Postgres), and the per-key Prometheus counters.
 */
describe('spend per key and model', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let up: FakeUpstream;
  let sql: postgres.Sql;
  let admin: ReturnType<typeof client>;
  const keys: Record<string, { id: string; c: ReturnType<typeof client> }> = {};
  const typed = () => new RouterClient({ baseUrl: svc.url, apiKey: ADMIN_KEY });
  /** The model that answered each call of tenant-a, as the api said. */
  const answered: string[] = [];

  beforeAll(async () => {
    up = await startFakeUpstream();
    env = await freshEnvironment('key_usage');
    svc = await startService(env, 1, { BREAKER_THRESHOLD: '100', PROXY_TTFT_TIMEOUT_MS: '2000', PROXY_TIMEOUT_MS: '2000' });
    sql = postgres(env.databaseUrl, { max: 2, onnotice: () => undefined });
    admin = client(svc.url);
    for (const id of ['small', 'large', 'flaky'])
      expect(
        (
          await admin.put(`/admin/models/${id}`, {
            baseUrl: `${up.url}/v1`,
            upstreamModel: `up-${id}`,
            pricing: PRICES[id],
            ...(id === 'small' ? { energy: { joulesPerOutputToken: 0.5 } } : {}),
          })
        ).status,
      ).toBe(200);
    up.setMode('up-flaky', 'error500');
    expect((await admin.put('/admin/policies/chat', { algorithm: 'linucb', arms: ['small', 'large'] })).status).toBe(201);
    for (const name of ['tenant-a', 'tenant-b']) {
      const k = await admin.post('/admin/keys', { name, scope: 'route' });
      keys[name] = { id: k.body.id, c: client(svc.url, k.body.secret) };
    }
    const a = keys['tenant-a'].c;
    for (const body of [
      { model: 'small', messages: MSG },
      { model: 'small', messages: MSG },
      { model: 'large', messages: MSG, stream: true },
      { model: 'router/chat', messages: MSG },
    ]) {
      const r = await a.post('/v1/chat/completions', body);
      expect(r.status).toBe(200);
      answered.push(r.headers.get('x-router-model')!);
    }
    expect((await a.post('/v1/chat/completions', { model: 'flaky', messages: MSG })).status).toBe(502);
    expect((await a.post('/v1/route', { policy: 'chat', input: 'decide only: no usage' })).status).toBe(200);
    expect((await keys['tenant-b'].c.post('/v1/chat/completions', { model: 'small', messages: MSG })).status).toBe(200);
    await eventually(async () => (await sql`select count(*)::int as n from events where kind = 'usage'`)[0].n === 6);
  });

  afterAll(async () => {
    await sql.end();
    await svc.close();
    await env.drop();
    await up.close();
  });

  it('reports requests, failures, tokens, cost and energy per model for one key', async () => {
    // Through the typed client: the answer parses with the published response schema.
    const r = { body: await typed().keyUsage(keys['tenant-a'].id) };
    expect(r.body.key).toEqual({ id: keys['tenant-a'].id, name: 'tenant-a' });
    const calls = (m: string) => answered.filter((x) => x === m).length;
    const expected = ['flaky', 'large', 'small'].map((m) => {
      const n = calls(m);
      return {
        model: m,
        requests: m === 'flaky' ? 1 : n,
        failed: m === 'flaky' ? 1 : 0,
        inputTokens: IN * n,
        outputTokens: OUT * n,
        costUsd: m === 'flaky' ? null : expect.closeTo(n * cost(m), 12),
        energyJoules: m === 'small' ? expect.closeTo(0.5 * OUT * n, 12) : null,
      };
    });
    expect(r.body.models).toEqual(expected);
    expect(r.body.total).toEqual({
      requests: 5,
      failed: 1,
      inputTokens: IN * 4,
      outputTokens: OUT * 4,
      costUsd: expect.closeTo(calls('small') * cost('small') + calls('large') * cost('large'), 12),
      energyJoules: expect.closeTo(0.5 * OUT * calls('small'), 12),
    });
    const b = await typed().keyUsage(keys['tenant-b'].id);
    expect(b.models).toEqual([
      { model: 'small', requests: 1, failed: 0, inputTokens: IN, outputTokens: OUT, costUsd: expect.closeTo(cost('small'), 12), energyJoules: 2 },
    ]);
  });

  it('charges a stream its client left before the end for what was forwarded, and its limits count it', async () => {
    expect((await admin.put('/admin/models/endless', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-endless', pricing: PRICES.small })).status).toBe(200);
    up.setMode('up-endless', 'flood', 4 * 1024 * 1024);
    const k = await admin.post('/admin/keys', { name: 'tenant-c', scope: 'route', limits: { tokensPerMinute: 1000 } });
    const ac = new AbortController();
    const res = await fetch(`${svc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${k.body.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'endless', messages: MSG, stream: true }),
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    // Read about 200 KB of the stream (no usage in it: the tokens are counted from the content), then leave.
    const reader = res.body!.getReader();
    for (let got = 0; got < 200_000;) got += (await reader.read()).value?.length ?? Infinity;
    ac.abort();
    let usage: any;
    await eventually(async () => (usage = (await admin.get(`/admin/keys/${k.body.id}/usage`)).body).total.requests === 1, 10_000);
    expect(usage.total).toMatchObject({ requests: 1, failed: 1 });
    expect(usage.total.outputTokens).toBeGreaterThan(20_000);
    expect(usage.total.costUsd).toBeCloseTo(
      (usage.total.inputTokens * PRICES.small.inputPerMTok + usage.total.outputTokens * PRICES.small.outputPerMTok) / 1e6,
      12,
    );
    // The forwarded tokens were charged to the key's limit at once.
    const next = await fetch(`${svc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${k.body.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'small', messages: MSG }),
    });
    expect(next.status).toBe(429);
    // Without a reported usage, the input is estimated from the whole request sent upstream, tools included.
    const d = await admin.post('/admin/keys', { name: 'tenant-d', scope: 'route' });
    const tools = [{ type: 'function', function: { name: 'f', description: 'd'.repeat(40_000), parameters: { type: 'object' } } }];
    const withTools = await fetch(`${svc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.body.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'endless', messages: MSG, stream: true, tools }),
      signal: AbortSignal.timeout(60_000),
    });
    const r1 = withTools.body!.getReader();
    for (let got = 0; got < 20_000;) got += (await r1.read()).value?.length ?? Infinity;
    await r1.cancel();
    let dUsage: any;
    await eventually(async () => (dUsage = (await admin.get(`/admin/keys/${d.body.id}/usage`)).body).total.requests === 1, 10_000);
    expect(dUsage.total.inputTokens).toBeGreaterThanOrEqual(10_000);
    // Routed, the same: charged as a failed call, stored stale, nothing learnt from it.
    expect((await admin.put('/admin/policies/endless', { algorithm: 'linucb', arms: ['endless'] })).status).toBe(201);
    const routed = await fetch(`${svc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'router/endless', messages: MSG, stream: true }),
      signal: AbortSignal.timeout(60_000),
    });
    const r2 = routed.body!.getReader();
    for (let got = 0; got < 200_000;) got += (await r2.read()).value?.length ?? Infinity;
    await r2.cancel();
    const stats = async () => (await admin.get('/admin/policies/endless/stats')).body;
    await eventually(async () => (await stats()).events?.stale === 1, 10_000);
    const s = await stats();
    expect(s.events.learned).toBe(0);
    expect([s.arms[0].costUsd.count, s.arms[0].latencyMs.count, s.arms[0].pulls]).toEqual([0, 0, 1]);
    up.setMode('up-endless', 'ok');
  });

  it('reads the usage of a stream whose client left once the answer was complete, and charges what the upstream counted', async () => {
    const late = await startFakeUpstream({ usageDelayMs: 500 });
    try {
      expect((await admin.put('/admin/models/late-usage', { baseUrl: `${late.url}/v1`, upstreamModel: 'up-late', pricing: PRICES.small })).status).toBe(200);
      const k = await admin.post('/admin/keys', { name: 'tenant-l', scope: 'route' });
      const ac = new AbortController();
      const res = await fetch(`${svc.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k.body.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'late-usage', messages: MSG, stream: true }),
        signal: ac.signal,
      });
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('"finish_reason":"stop"')) text += new TextDecoder().decode((await reader.read()).value);
      ac.abort(); // the answer is complete; the usage chunk has not come yet
      let m: Awaited<ReturnType<ReturnType<typeof typed>['keyUsage']>>['models'] = [];
      await eventually(async () => (m = (await typed().keyUsage(k.body.id)).models).length === 1, 10_000);
      // The upstream's count (7 in, 4 out), not the estimate from the request's bytes: the call is not a failure either.
      expect(m[0]).toMatchObject({
        model: 'late-usage',
        requests: 1,
        failed: 0,
        inputTokens: IN,
        outputTokens: OUT,
        costUsd: expect.closeTo(cost('small'), 12),
      });
      // An upstream that sends far more than a usage chunk after the answer is read no further than a bound (what was
      // forwarded before the client's leaving was noticed is charged, as for any stream left early).
      up.setMode('up-chatty', 'flood-after-finish', 64 * 1024 * 1024);
      expect((await admin.put('/admin/models/chatty', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-chatty', pricing: PRICES.small })).status).toBe(200);
      const k2 = await admin.post('/admin/keys', { name: 'tenant-l2', scope: 'route' });
      const ac2 = new AbortController();
      const res2 = await fetch(`${svc.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k2.body.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chatty', messages: MSG, stream: true }),
        signal: ac2.signal,
      });
      const reader2 = res2.body!.getReader();
      for (let seen = ''; !seen.includes('"finish_reason":"stop"');) seen += new TextDecoder().decode((await reader2.read()).value);
      ac2.abort();
      await eventually(async () => (m = (await typed().keyUsage(k2.body.id)).models).length === 1, 10_000);
      expect(m[0]).toMatchObject({ model: 'chatty', requests: 1, failed: 1 });
      expect(up.sent.get('up-chatty')).toBeLessThan(8 * 1024 * 1024);
      expect(m[0].outputTokens * 4).toBeLessThanOrEqual(up.sent.get('up-chatty')!);
    } finally {
      await late.close();
    }
  });

  it('charges every answer made upstream that could not be used, as its own failed call, beside the answer that was', async () => {
    expect((await admin.put('/admin/models/garbled', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-garbled', pricing: PRICES.flaky })).status).toBe(200);
    up.setMode('up-garbled', 'malformed');
    expect((await admin.put('/admin/policies/garbled-first', { algorithm: 'linucb', arms: ['garbled', 'small'] })).status).toBe(201);
    const k = await admin.post('/admin/keys', { name: 'tenant-g', scope: 'route' });
    const g = client(svc.url, k.body.secret);
    const usage = async () => (await typed().keyUsage(k.body.id)).models;
    // Direct: two attempts, each answer made (a 200 that is not JSON): both charged their input.
    expect((await g.post('/v1/chat/completions', { model: 'garbled', messages: MSG })).status).toBe(502);
    let m: Awaited<ReturnType<typeof usage>> = [];
    await eventually(async () => (m = await usage()).length === 1 && m[0].requests === 2, 10_000);
    const perAttempt = m[0].inputTokens / 2;
    expect(perAttempt).toBeGreaterThan(0);
    expect(m[0]).toMatchObject({
      model: 'garbled',
      failed: 2,
      outputTokens: 0,
      costUsd: expect.closeTo((2 * perAttempt * PRICES.flaky.inputPerMTok) / 1e6, 12),
    });
    // Routed until the pick is `garbled`: both its answers are wasted, the fallback answers, and all three are charged.
    let routed = 0;
    for (let garbledTried = false; !garbledTried && routed < 30; routed++) {
      const before = up.hits.get('up-garbled') ?? 0;
      const r = await g.post('/v1/chat/completions', { model: 'router/garbled-first', messages: MSG });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-router-model')).toBe('small');
      garbledTried = (up.hits.get('up-garbled') ?? 0) > before;
    }
    expect(up.hits.get('up-garbled')).toBe(4);
    await eventually(async () => (m = await usage()).find((x) => x.model === 'small')?.requests === routed && m[0].requests === 4, 10_000);
    expect(m).toEqual([
      {
        model: 'garbled',
        requests: 4,
        failed: 4,
        inputTokens: 4 * perAttempt,
        outputTokens: 0,
        costUsd: expect.closeTo((4 * perAttempt) / 1e6, 12),
        energyJoules: null,
      },
      {
        model: 'small',
        requests: routed,
        failed: 0,
        inputTokens: IN * routed,
        outputTokens: OUT * routed,
        costUsd: expect.closeTo(routed * cost('small'), 12),
        energyJoules: expect.closeTo(0.5 * OUT * routed, 12),
      },
    ]);
    // What the policy learnt of the call: the fallback's usage only (the wasted answers have no decision).
    const stats = (await admin.get('/admin/policies/garbled-first/stats')).body;
    expect(stats.arms.find((a: { model: string }) => a.model === 'garbled').costUsd.count).toBe(0);
  });

  it('charges the input of attempts cut while the upstream had the prompt (out of time, or the client gone first)', async () => {
    expect((await admin.put('/admin/models/stalled', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-stalled', pricing: PRICES.small })).status).toBe(200);
    up.setMode('up-stalled', 'hang');
    const k = await admin.post('/admin/keys', { name: 'tenant-t', scope: 'route', limits: { tokensPerMinute: 2000 } });
    const t = client(svc.url, k.body.secret);
    const usage = async () => (await typed().keyUsage(k.body.id)).total;
    // ~8 KB of prompt: about 2,000 tokens at four bytes a token.
    const long = [{ role: 'user', content: 'x'.repeat(8000) }];
    // Non-streamed: the attempt reaches the upstream and runs out of time (2 s, the whole-call limit: such an
    // answer's first byte is all of it), and is not asked again (it would generate the same long answer twice). It
    // is charged its input.
    const hits = () => up.hits.get('up-stalled') ?? 0;
    expect((await t.post('/v1/chat/completions', { model: 'stalled', messages: long })).status).toBe(502);
    expect(hits()).toBe(1);
    let u: Awaited<ReturnType<typeof usage>> | undefined;
    await eventually(async () => (u = await usage()).requests === 1, 10_000);
    expect(u).toMatchObject({ requests: 1, failed: 1, outputTokens: 0 });
    expect(u!.inputTokens).toBeGreaterThanOrEqual(2000);
    expect(u!.costUsd).toBeCloseTo((u!.inputTokens * PRICES.small.inputPerMTok) / 1e6, 12);
    // Charged to the key's limit at once: its next call is refused.
    expect((await t.post('/v1/chat/completions', { model: 'small', messages: MSG })).status).toBe(429);
    // A stream whose client leaves before the first chunk: its input is charged too (another key, no limit).
    const s = await admin.post('/admin/keys', { name: 'tenant-s', scope: 'route' });
    const body = JSON.stringify({ model: 'stalled', messages: long, stream: true });
    const init = { method: 'POST', headers: { authorization: `Bearer ${s.body.secret}`, 'content-type': 'application/json' }, body };
    await expect(fetch(`${svc.url}/v1/chat/completions`, { ...init, signal: AbortSignal.timeout(300) })).rejects.toThrow();
    await eventually(async () => hits() === 2, 5000);
    let v: Awaited<ReturnType<typeof usage>> | undefined;
    await eventually(async () => (v = (await typed().keyUsage(s.body.id)).total).requests === 1, 10_000);
    expect(v).toMatchObject({ requests: 1, failed: 1, outputTokens: 0 });
    expect(v!.inputTokens).toBeGreaterThanOrEqual(2000);
    up.setMode('up-stalled', 'ok');
  }, 30_000);

  it('charges by estimate a call whose upstream reports zero tokens for text it was sent and made', async () => {
    expect((await admin.put('/admin/models/zeros', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-zeros', pricing: PRICES.small })).status).toBe(200);
    up.setMode('up-zeros', 'zero-usage');
    const k = await admin.post('/admin/keys', { name: 'tenant-z', scope: 'route' });
    expect((await client(svc.url, k.body.secret).post('/v1/chat/completions', { model: 'zeros', messages: MSG })).status).toBe(200);
    let m: Awaited<ReturnType<ReturnType<typeof typed>['keyUsage']>>['models'] = [];
    await eventually(async () => (m = (await typed().keyUsage(k.body.id)).models).length === 1, 10_000);
    // "Hello from up-zeros!" is 20 bytes: 5 tokens at four bytes a token; the input is the request sent upstream.
    expect(m[0]).toMatchObject({ model: 'zeros', requests: 1, failed: 0, outputTokens: 5 });
    expect(m[0].inputTokens).toBeGreaterThan(0);
  });

  it('counts a window [from, to) and keeps reporting revoked keys', async () => {
    const id = keys['tenant-b'].id;
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const empty = await typed().keyUsage(id, { from: future, to: new Date(Date.now() + 7_200_000).toISOString() });
    expect(empty.models).toEqual([]);
    expect(empty.total).toEqual({ requests: 0, failed: 0, inputTokens: 0, outputTokens: 0, costUsd: null, energyJoules: null });
    const past = await typed().keyUsage(id, { to: new Date(Date.now() - 3_600_000).toISOString() });
    expect(past.models).toEqual([]);
    const all = await typed().keyUsage(id, { from: '2026-01-01T00:00:00Z', to: future });
    expect(all.total.requests).toBe(1);
    expect(all.from).toBe('2026-01-01T00:00:00.000Z');
    await typed().revokeKey(id);
    expect((await typed().keyUsage(id)).total.requests).toBe(1);
  });

  it('answers 4xx naming the field for a bad window or id, 404 for an unknown key, 403 for a route key', async () => {
    const id = keys['tenant-a'].id;
    for (const [q, path] of [
      ['from=yesterday', 'from'],
      ['from=0000-01-01T00:00:00Z', 'from'],
      ['to=2026-13-01T00:00:00Z', 'to'],
      ['from=2026-02-02T00:00:00Z&to=2026-02-01T00:00:00Z', 'from'],
      ['bucket=1m', 'bucket'],
    ]) {
      const r = await admin.get(`/admin/keys/${id}/usage?${q}`);
      expect([q, r.status]).toEqual([q, 400]);
      expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect((await admin.get(`/admin/keys/${id}/usage?bucket=1m`)).body.errors[0].message).toContain('bucket');
    expect((await admin.get('/admin/keys/key_unknown/usage')).status).toBe(404);
    expect((await admin.get('/admin/keys/bad%20id/usage')).status).toBe(400);
    expect((await keys['tenant-a'].c.get(`/admin/keys/${id}/usage`)).status).toBe(403);
  });

  it('counts calls, tokens, cost and energy per key name and model in Prometheus', async () => {
    const text = (await admin.get('/metrics')).body as string;
    const value = (series: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${series} `))
          ?.split(' ')[1] ?? 0,
      );
    const n = answered.filter((x) => x === 'small').length;
    expect(value('router_key_calls_total{key="tenant-a",model="small"}')).toBe(n);
    expect(value('router_key_calls_total{key="tenant-a",model="flaky"}')).toBe(1);
    expect(value('router_key_calls_total{key="tenant-b",model="small"}')).toBe(1);
    expect(value('router_key_tokens_total{key="tenant-a",model="small",direction="input"}')).toBe(IN * n);
    expect(value('router_key_tokens_total{key="tenant-a",model="small",direction="output"}')).toBe(OUT * n);
    expect(value('router_key_cost_usd_total{key="tenant-a",model="small"}')).toBeCloseTo(n * cost('small'), 12);
    expect(value('router_key_energy_joules_total{key="tenant-a",model="small"}')).toBeCloseTo(0.5 * OUT * n, 12);
  });
});
