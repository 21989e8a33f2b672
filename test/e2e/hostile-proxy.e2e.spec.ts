import { request as httpRequest } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ModelsRepository } from '@app/persistence';
import { RegistryStore } from '@app/store';
import { PolicyCache } from '../../apps/api/src/routing/policy-cache.service.js';
import { ADMIN_KEY, client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';

const MiB = 1024 * 1024;
const SECRET = 'hostile-secret-value-0123456789';
const GOOD_KEY = 'upstream-key-value-abcdef';

/** `[[[…]]]` (or `{"a":{"a":…}}`) `depth` levels deep, built as text: building it as an object would need recursion. */
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const chatBody = (policy: string, extra: string, content = '"hi"') => `{"model":"router/${policy}","messages":[{"role":"user","content":${content}}]${extra}}`;

/** Peak RSS growth of this process (the api runs in it) while `fn` runs. */
async function rssGrowth<T>(fn: () => Promise<T>): Promise<{ result: T; growthMb: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growthMb: (peak - base) / MiB };
  } finally {
    clearInterval(timer);
  }
}

/**
 * The proxy against hostile requests and hostile upstreams, through the real app: bad input is a 4xx before
 * routing and never trips a breaker; a model cannot read arbitrary environment variables as its key; upstream
 * bodies are bounded while read, SSE is parsed in linear time with bounded events, and a slow client slows the
 * upstream down instead of filling the api's memory.
 */
describe('proxy against hostile input and upstreams', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let admin: ReturnType<typeof client>;
  let up: FakeUpstream;

  const breaker = async (id: string) => (await admin.get(`/admin/models/${id}`)).body.breaker as { state: string; failures: number };
  const put = async (id: string, extra: Record<string, unknown> = {}) =>
    admin.put(`/admin/models/${id}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${id}`, ...extra });

  beforeAll(async () => {
    process.env.HOSTILE_SECRET = SECRET;
    process.env.UPSTREAM_HOSTILE_KEY = GOOD_KEY;
    up = await startFakeUpstream();
    env = await freshEnvironment('hostile');
    svc = await startService(env, 1, { BREAKER_THRESHOLD: '3', BREAKER_COOLDOWN_MS: '60000', PROXY_TTFT_TIMEOUT_MS: '2000', PROXY_TIMEOUT_MS: '20000' });
    admin = client(svc.url);
    for (const m of ['deep1', 'deep2', 'huge1', 'huge2', 'line1', 'line2', 'flood1', 'flood2']) expect((await put(m)).status).toBe(200);
    for (const [p, arms] of [
      ['deep', ['deep1', 'deep2']],
      ['huge', ['huge1', 'huge2']],
      ['line', ['line1', 'line2']],
      ['flood', ['flood1', 'flood2']],
    ] as const)
      expect((await admin.put(`/admin/policies/${p}`, { algorithm: 'linucb', arms })).status).toBe(201);
  });

  afterAll(async () => {
    await svc?.close();
    await env?.drop();
    await up?.close();
    delete process.env.HOSTILE_SECRET;
    delete process.env.UPSTREAM_HOSTILE_KEY;
  });

  describe('deeply nested request fields', () => {
    it('answers 400 naming the field before routing, and never opens a breaker', async () => {
      const cases: [string, string][] = [
        [chatBody('deep', `,"foo":${deepArray(10_000)}`), 'foo'],
        [chatBody('deep', `,"response_format":${deepObject(5_000)}`), 'response_format'],
        [chatBody('deep', '', `[${deepArray(10_000)}]`), 'messages.0.content'],
        [chatBody('deep', '').replace('"role":"user"', `"role":"user","tool_calls":${deepObject(3_000)}`), 'messages.0.tool_calls'],
        [chatBody('deep', `,"foo":${deepArray(65)}`), 'foo'],
      ];
      for (let i = 0; i < 10; i++) {
        const [body, field] = cases[i % cases.length];
        const r = await admin.post('/v1/chat/completions', body);
        expect(r.status).toBe(400);
        expect(r.body.error).toMatchObject({ type: 'invalid_request_error', param: field });
      }
      expect(up.hits.get('up-deep1') ?? 0).toBe(0);
      expect(up.hits.get('up-deep2') ?? 0).toBe(0);
      for (const m of ['deep1', 'deep2']) expect(await breaker(m)).toMatchObject({ state: 'closed', failures: 0 });
    });

    it('answers a 4xx for nesting deep enough to trouble a JSON parser', async () => {
      const r = await admin.post('/v1/chat/completions', chatBody('deep', `,"foo":${deepArray(400_000)}`));
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      for (const m of ['deep1', 'deep2']) expect(await breaker(m)).toMatchObject({ state: 'closed', failures: 0 });
    });

    it('still passes ordinary nesting through (a JSON schema 20 levels deep)', async () => {
      const r = await admin.post('/v1/chat/completions', chatBody('deep', `,"response_format":${deepObject(20)}`));
      expect(r.status).toBe(200);
    });
  });

  describe('upstream key variables', () => {
    it('refuses a model whose apiKeyEnv lacks the UPSTREAM_ prefix (400 naming apiKeyEnv)', async () => {
      for (const name of ['ADMIN_API_KEY', 'DATABASE_URL', 'HOSTILE_SECRET']) {
        const r = await put('keyed', { apiKeyEnv: name });
        expect(r.status).toBe(400);
        expect(r.body.errors.map((e: { path: string }) => e.path)).toContain('apiKeyEnv');
        expect(JSON.stringify(r.body)).toContain('UPSTREAM_');
      }
      expect((await admin.get('/admin/models/keyed')).status).toBe(404);
    });

    it('sends the value of an allowed variable as the bearer key', async () => {
      expect((await put('keyed', { apiKeyEnv: 'UPSTREAM_HOSTILE_KEY' })).status).toBe(200);
      expect((await admin.put('/admin/policies/keyed', { algorithm: 'linucb', arms: ['keyed'] })).status).toBe(201);
      const r = await admin.post('/v1/chat/completions', chatBody('keyed', ''));
      expect(r.status).toBe(200);
      expect(up.lastHeaders.get('up-keyed')?.authorization).toBe(`Bearer ${GOOD_KEY}`);
    });

    it('refuses at call time a model stored without the check: never sends the value, falls back, breaker untouched', async () => {
      // A model stored before the rule existed (or by another path than the admin API).
      const legacy = { id: 'legacy', baseUrl: `${up.url}/v1`, upstreamModel: 'up-legacy', apiKeyEnv: 'HOSTILE_SECRET', enabled: true };
      await svc.api.get(ModelsRepository, { strict: false }).upsert('legacy', legacy);
      await svc.api.get(RegistryStore, { strict: false }).putModel(legacy);
      expect((await admin.put('/admin/policies/legacy', { algorithm: 'linucb', arms: ['legacy', 'keyed'] })).status).toBe(201);
      expect((await admin.put('/admin/policies/legacy-only', { algorithm: 'linucb', arms: ['legacy'] })).status).toBe(201);
      await svc.api.get(PolicyCache, { strict: false }).refresh();
      for (let i = 0; i < 5; i++) {
        const r = await admin.post('/v1/chat/completions', chatBody('legacy', ''));
        expect(r.status).toBe(200);
        expect(r.headers.get('x-router-model')).toBe('keyed');
      }
      const only = await admin.post('/v1/chat/completions', chatBody('legacy-only', ''));
      expect(only.status).toBe(502);
      expect(only.body.error.message).toContain('apiKeyEnv');
      expect(JSON.stringify(only.body)).not.toContain(SECRET);
      expect(up.hits.get('up-legacy') ?? 0).toBe(0);
      expect(await breaker('legacy')).toMatchObject({ state: 'closed', failures: 0 });
    });
  });

  describe('hostile upstream bodies', () => {
    it('refuses a 100 MB response while reading it: 502 naming the limit, memory bounded, breakers closed', async () => {
      up.setMode('up-huge1', 'huge', 100 * MiB);
      up.setMode('up-huge2', 'huge', 100 * MiB);
      const { result: r, growthMb } = await rssGrowth(() => admin.post('/v1/chat/completions', chatBody('huge', '')));
      console.log(
        `100 MB upstream response: status ${r.status}, api RSS growth ${growthMb.toFixed(1)} MB, upstream sent ${(((up.sent.get('up-huge1') ?? 0) + (up.sent.get('up-huge2') ?? 0)) / MiB).toFixed(1)} MB`,
      );
      expect(r.status).toBe(502);
      expect(r.body.error.type).toBe('api_error');
      expect(r.body.error.message).toMatch(/^upstream response exceeded PROXY_MAX_RESPONSE_BYTES \(16777216 bytes\)/);
      expect(growthMb).toBeLessThan(64);
      // Aborted while reading: the upstream did not get to write its 100 MB.
      expect((up.sent.get('up-huge1') ?? 0) + (up.sent.get('up-huge2') ?? 0)).toBeLessThan(48 * MiB);
      for (const m of ['huge1', 'huge2']) expect(await breaker(m)).toMatchObject({ state: 'closed', failures: 0 });
    }, 60_000);

    it('passes a large answer within the limit on whole, its model rewritten off the api thread, its usage recorded', async () => {
      for (const m of ['huge1', 'huge2']) up.setMode(`up-${m}`, 'huge', 6 * MiB);
      const learnt = async () => (await admin.get('/admin/policies/huge/stats')).body.events.learned as number;
      const before = await learnt();
      const answers = await Promise.all([1, 2, 3].map(() => admin.post('/v1/chat/completions', chatBody('huge', ''))));
      for (const r of answers) {
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(r.body.model).toBe(r.headers.get('x-router-model'));
        expect(r.body.choices[0].message.content).toHaveLength(6 * MiB);
        expect(r.body.usage).toEqual({ prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 });
      }
      for (const m of ['huge1', 'huge2']) up.setMode(`up-${m}`, 'ok');
      // Each call's usage event (tokens as the upstream reported them) is learnt.
      await eventually(async () => (await learnt()) === before + 3, 10_000);
    }, 60_000);

    it('ends a stream whose event grows past PROXY_MAX_SSE_EVENT_BYTES with an in-band error, without stalling the loop', async () => {
      up.setMode('up-line1', 'long-line', 20 * MiB);
      up.setMode('up-line2', 'long-line', 20 * MiB);
      const h = monitorEventLoopDelay({ resolution: 10 });
      let polling = true;
      let worstPollMs = 0;
      const poll = (async () => {
        while (polling) {
          const t0 = performance.now();
          await fetch(`${svc.url}/health/live`).then((r) => r.text());
          worstPollMs = Math.max(worstPollMs, performance.now() - t0);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      h.enable();
      const t0 = performance.now();
      const { result: text, growthMb } = await rssGrowth(async () => {
        const res = await fetch(`${svc.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
          body: chatBody('line', ',"stream":true'),
        });
        expect(res.status).toBe(200);
        return res.text();
      });
      const ms = performance.now() - t0;
      h.disable();
      polling = false;
      await poll;
      console.log(
        `20 MB SSE line: ${ms.toFixed(0)} ms, worst /health/live ${worstPollMs.toFixed(0)} ms, event-loop delay max ${(h.max / 1e6).toFixed(0)} ms, ` +
          `client got ${(text.length / MiB).toFixed(2)} MB, api RSS growth ${growthMb.toFixed(1)} MB`,
      );
      const events = text.split('\n\n').filter((e) => e.trim());
      expect(JSON.parse(events[0].slice('data: '.length)).choices[0].delta.content).toBe('Hello');
      const last = JSON.parse(events[events.length - 1].slice('data: '.length));
      expect(last.error.message).toContain('PROXY_MAX_SSE_EVENT_BYTES (1048576 bytes)');
      expect(text.length).toBeLessThan(MiB);
      expect(worstPollMs).toBeLessThan(250);
      for (const m of ['line1', 'line2']) expect(await breaker(m)).toMatchObject({ state: 'closed', failures: 0 });
    }, 60_000);

    it('reads the upstream only as fast as a slow client takes the stream (backpressure)', async () => {
      up.setMode('up-flood1', 'flood', 256 * MiB);
      up.setMode('up-flood2', 'flood', 256 * MiB);
      const sentNow = () => (up.sent.get('up-flood1') ?? 0) + (up.sent.get('up-flood2') ?? 0);
      const { result, growthMb } = await rssGrowth(
        () =>
          new Promise<{ during: number; after: number }>((resolve, reject) => {
            const req = httpRequest(
              `${svc.url}/v1/chat/completions`,
              { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' } },
              (res) => {
                res.pause(); // a client that does not read
                setTimeout(() => {
                  const during = sentNow();
                  // Still paused: nothing more may be pulled from the upstream.
                  setTimeout(() => {
                    const after = sentNow();
                    res.destroy();
                    resolve({ during, after });
                  }, 1000);
                }, 2000);
              },
            );
            req.on('error', reject);
            req.end(chatBody('flood', ',"stream":true'));
          }),
      );
      console.log(
        `paused client on a 256 MB stream: upstream sent ${(result.during / MiB).toFixed(1)} MB after 2 s, ${(result.after / MiB).toFixed(1)} MB after 3 s, api RSS growth ${growthMb.toFixed(1)} MB`,
      );
      expect(result.during).toBeLessThan(64 * MiB);
      expect(result.after - result.during).toBeLessThan(2 * MiB);
      expect(growthMb).toBeLessThan(64);
      // The client went away: the upstream call is aborted and the breaker is not blamed.
      await new Promise((r) => setTimeout(r, 300));
      for (const m of ['flood1', 'flood2']) expect(await breaker(m)).toMatchObject({ state: 'closed', failures: 0 });
    }, 60_000);
  });
});
