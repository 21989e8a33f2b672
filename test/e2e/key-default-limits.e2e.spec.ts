import { setVariables } from '@app/infra';
import { apiEnvSchema } from '../../apps/api/src/config.js';
import { ADMIN_KEY, client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Counters are per minute: start a sequence that must stay in one minute with at least `need` seconds left. */
async function inOneMinute(need = 15): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < need * 1000) await sleep(left + 50);
}

/**
 * KEY_DEFAULT_LIMITS: a route key that sets no limit of its own is held to the deployment's defaults, field by
 * field (a key's own value wins); admin keys are not held to them.
 */
describe('default key limits', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let up: FakeUpstream;
  let admin: ReturnType<typeof client>;
  const key = async (name: string, limits?: Record<string, number>, scope = 'route') => {
    const r = await admin.post('/admin/keys', { name, scope, ...(limits ? { limits } : {}) });
    expect(r.status).toBe(201);
    return { id: r.body.id as string, c: client(svc.url, r.body.secret as string) };
  };

  beforeAll(async () => {
    up = await startFakeUpstream();
    env = await freshEnvironment('key_defaults');
    svc = await startService(env, 1, {
      KEY_DEFAULT_LIMITS: JSON.stringify({ requestsPerMinute: 3, concurrentRequests: 1, eventsPerMinute: 2 }),
      PROXY_TTFT_TIMEOUT_MS: '1500',
      PROXY_TIMEOUT_MS: '1500',
    });
    admin = client(svc.url);
    expect((await admin.put('/admin/models/small', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-small' })).status).toBe(200);
    expect((await admin.put('/admin/models/stuck', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-stuck' })).status).toBe(200);
    up.setMode('up-stuck', 'hang');
    expect((await admin.put('/admin/policies/chat', { algorithm: 'linucb', arms: ['small'] })).status).toBe(201);
    await eventually(async () => (await admin.get('/admin/policies/chat')).status === 200);
  });
  afterAll(async () => {
    await svc?.close();
    await env?.drop();
    await up?.close();
  });

  it('holds a key without limits to the defaults, and a key with some of its own to the defaults of the rest', async () => {
    await inOneMinute();
    const plain = await key('plain');
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await plain.c.post('/v1/route', { policy: 'chat', input: `q${i}` }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    const refused = await plain.c.post('/v1/route', { policy: 'chat', input: 'again' });
    expect(refused.body.errors).toEqual([{ path: 'limits.requestsPerMinute', message: 'limit reached' }]);
    // Events too: two a minute.
    const thumb = { decisionId: answers[0].body.decisionId as string, thumb: 'up' };
    expect((await plain.c.post('/v1/feedback/batch', { events: [thumb, thumb] })).status).toBe(202);
    const over = await plain.c.post('/v1/feedback', thumb);
    expect(over.status).toBe(429);
    expect(over.body.errors).toEqual([{ path: 'limits.eventsPerMinute', message: 'limit reached' }]);
    // The admin API shows the key's own limits (none), and what it is held to.
    const shown = (await admin.get('/admin/keys')).body.keys.find((k: { id: string }) => k.id === plain.id);
    expect(shown.limits).toBeNull();
    expect(shown.effectiveLimits).toEqual({ requestsPerMinute: 3, concurrentRequests: 1, eventsPerMinute: 2 });

    // Its own requests per minute (10) win over the default (3); calls in flight keep the default (1).
    const own = await key('own', { requestsPerMinute: 10 });
    expect((await admin.get('/admin/keys')).body.keys.find((k: { id: string }) => k.id === own.id).effectiveLimits).toEqual({
      requestsPerMinute: 10,
      concurrentRequests: 1,
      eventsPerMinute: 2,
    });
    for (let i = 0; i < 5; i++) expect((await own.c.post('/v1/route', { policy: 'chat', input: `o${i}` })).status).toBe(200);
    const hanging = own.c.post('/v1/chat/completions', { model: 'stuck', messages: [{ role: 'user', content: 'hi' }] });
    await eventually(async () => (up.hits.get('up-stuck') ?? 0) >= 1, 2000);
    const second = await own.c.post('/v1/chat/completions', { model: 'small', messages: [{ role: 'user', content: 'hi' }] });
    expect(second.status).toBe(429);
    expect(second.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect((await hanging).status).toBe(502);
    expect((await own.c.post('/v1/chat/completions', { model: 'small', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);

    // Admin keys (the bootstrap key, and one stored like the others) are not a tenant's: no default applies to them.
    const stored = await key('operator', undefined, 'admin');
    for (const c of [client(svc.url, ADMIN_KEY), stored.c])
      for (let i = 0; i < 6; i++) expect((await c.post('/v1/route', { policy: 'chat', input: `a${i}` })).status).toBe(200);
    expect((await admin.get('/admin/keys')).body.keys.find((k: { id: string }) => k.id === stored.id).effectiveLimits).toBeNull();
  }, 30_000);

  it('refuses a bad KEY_DEFAULT_LIMITS at start, naming the variable and the field', () => {
    const base = { ADMIN_API_KEY: ADMIN_KEY };
    const issues = (v: string) => {
      const r = apiEnvSchema.safeParse({ ...base, KEY_DEFAULT_LIMITS: v });
      return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    };
    expect(issues('{"concurrentRequests":0}')).toEqual(['KEY_DEFAULT_LIMITS.concurrentRequests']);
    expect(issues('{"perHour":3}')).toEqual(['KEY_DEFAULT_LIMITS']);
    expect(issues('not json')).toEqual(['KEY_DEFAULT_LIMITS']);
    expect(apiEnvSchema.parse(setVariables({ ...base, KEY_DEFAULT_LIMITS: '' })).KEY_DEFAULT_LIMITS).toBeUndefined();
    expect(apiEnvSchema.parse({ ...base, KEY_DEFAULT_LIMITS: '{"eventsPerMinute":600}' }).KEY_DEFAULT_LIMITS).toEqual({ eventsPerMinute: 600 });
  });
});
