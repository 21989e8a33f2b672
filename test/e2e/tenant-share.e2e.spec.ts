import { ADMIN_KEY, client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';

/**
 * One tenant's slow calls cannot take every connection to an upstream: with 4 connections per origin and a share
 * of 0.5, a tenant holds at most 2 calls in flight to one upstream; its third is refused at once (429, nothing
 * sent), and another tenant's call to the same upstream is served meanwhile.
 */
describe("a tenant's share of an upstream's connections", () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let up: FakeUpstream;

  beforeAll(async () => {
    up = await startFakeUpstream();
    env = await freshEnvironment('tenant_share');
    svc = await startService(env, 1, {
      PROXY_UPSTREAM_CONNECTIONS: '4',
      PROXY_TENANT_SHARE: '0.5',
      PROXY_TTFT_TIMEOUT_MS: '1500',
      PROXY_TIMEOUT_MS: '6000',
      BREAKER_THRESHOLD: '50',
    });
  });
  afterAll(async () => {
    await svc?.close();
    await env?.drop();
    await up?.close();
  });

  it('refuses a call over the share at once (429 in OpenAI shape, nothing sent), serves other tenants, and frees the slot when a call ends', async () => {
    const admin = client(svc.url);
    for (const m of ['slow', 'fast', 'spare'])
      expect((await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${m}` })).status).toBe(200);
    up.setMode('up-slow', 'hang');
    const key = async (name: string) => client(svc.url, (await admin.post('/admin/keys', { name, scope: 'route' })).body.secret as string);
    const [hog, other] = [await key('hog'), await key('other')];
    const call = (c: ReturnType<typeof client>, model: string) => c.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] });

    // Two hanging calls (each: an attempt and a retry, 1.5 s apiece) hold the hog's share of the upstream.
    const held = [call(hog, 'slow'), call(hog, 'slow')];
    await eventually(async () => up.hits.get('up-slow') === 2, 2000);
    const before = up.hits.get('up-fast') ?? 0;
    const t0 = Date.now();
    const refused = await call(hog, 'fast');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.error.message).toMatch(/too many calls of this tenant in flight/);
    expect(up.hits.get('up-fast') ?? 0).toBe(before);
    expect((await admin.get('/metrics')).body).toMatch(/^router_key_limit_refusals_total\{limit="upstreamShare"\} 1$/m);
    // Another tenant (and the admin key's owner) still gets a connection to the same upstream.
    expect((await call(other, 'fast')).status).toBe(200);
    expect((await call(client(svc.url, ADMIN_KEY), 'spare')).status).toBe(200);
    // The hanging calls end (502 after their time-to-first-byte limits); their slots are free again.
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([502, 502]);
    expect((await call(hog, 'fast')).status).toBe(200);
  }, 30_000);

  it('a call that waited for a connection all along gives up at its time-to-first-byte limit, unsent, and counts against no breaker', async () => {
    const admin = client(svc.url);
    for (const m of ['long', 'queued']) expect((await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${m}` })).status).toBe(200);
    up.setMode('up-long', 'trickle');
    const key = async (name: string) => (await admin.post('/admin/keys', { name, scope: 'route' })).body.secret as string;
    const stream = async (secret: string) => {
      const res = await fetch(`${svc.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'long', messages: [{ role: 'user', content: 'a long story' }], stream: true }),
      });
      return res.text();
    };
    // Two tenants, two long streams each: every one of the 4 connections is in use for 6 s.
    const secrets = [await key('long-a'), await key('long-b')];
    const streams = secrets.flatMap((s) => [stream(s), stream(s)]);
    await eventually(async () => up.hits.get('up-long') === 4, 2000);
    const t0 = Date.now();
    const waited = await client(svc.url, await key('waiting')).post('/v1/chat/completions', { model: 'queued', messages: [{ role: 'user', content: 'hi' }] });
    // Two attempts of 1.5 s each (not the 6 s the connections were held), both given up unsent.
    expect(Date.now() - t0).toBeLessThan(4500);
    expect(waited.status).toBe(502);
    expect(waited.body.error.message).toMatch(/no first byte within the TTFT limit/);
    expect(up.hits.get('up-queued') ?? 0).toBe(0);
    expect((await admin.get('/admin/models/queued')).body.breaker).toMatchObject({ state: 'closed', failures: 0 });
    // Given up, it is never sent, even once the connections free.
    await Promise.all(streams);
    await new Promise((r) => setTimeout(r, 300));
    expect(up.hits.get('up-queued') ?? 0).toBe(0);
  }, 30_000);
});
