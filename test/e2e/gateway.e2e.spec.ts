import { jest } from '@jest/globals';
import OpenAI, { APIError } from 'openai';
import { Logger } from '@app/infra';
import { ADMIN_KEY, client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PROMPT = 'PROMPT-TEXT-never-logged-4711';

/** The error the official client throws for a call (it has the status, OpenAI's fields and the response headers). */
async function apiError(call: () => Promise<unknown>): Promise<APIError> {
  try {
    await call();
  } catch (err) {
    if (err instanceof APIError) return err;
    throw err;
  }
  throw new Error('the call succeeded');
}

/**
 * What a user of LiteLLM or Portkey expects of a gateway, through the real app and the official `openai` client:
 * OpenAI-shaped errors on the OpenAI-compatible paths (problem+json elsewhere), request ids accepted or generated
 * and echoed everywhere (and forwarded upstream), an access line per request, and partial model updates.
 */
describe('gateway surface', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let quiet: Running;
  let admin: ReturnType<typeof client>;
  let up: FakeUpstream;
  let oa: OpenAI;
  let telemetryKey: string;
  const info = jest.spyOn(Logger.prototype, 'info');
  /** Every info record logged so far: [message, fields]. */
  const records = () => info.mock.calls.map(([msg, fields]) => ({ msg, fields: fields ?? {} }));
  const accessLine = (requestId: string) => records().find((r) => r.msg === 'request' && r.fields.requestId === requestId)?.fields;

  beforeAll(async () => {
    up = await startFakeUpstream();
    env = await freshEnvironment('gateway');
    const limits = { BODY_LIMIT_BYTES: '65536', AUTH_LOOKUP_BURST: '10', AUTH_LOOKUPS_PER_SECOND: '0.1' };
    svc = await startService(env, 1, { ...limits, BREAKER_THRESHOLD: '100' });
    quiet = await startService(env, 0, { ...limits, ACCESS_LOG: 'false' });
    admin = client(svc.url);
    for (const m of ['alpha', 'down'])
      expect(
        (await admin.put(`/admin/models/${m}`, { baseUrl: `${up.url}/v1`, upstreamModel: `up-${m}`, pricing: { inputPerMTok: 1, outputPerMTok: 2 } })).status,
      ).toBe(200);
    up.setMode('up-down', 'error500');
    expect((await admin.put('/admin/policies/chat', { algorithm: 'linucb', arms: ['alpha'] })).status).toBe(201);
    expect((await admin.put('/admin/policies/dead', { algorithm: 'linucb', arms: ['down'] })).status).toBe(201);
    telemetryKey = (await admin.post('/admin/keys', { name: 'gpu-host', scope: 'telemetry' })).body.secret;
    oa = new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
  });

  afterAll(async () => {
    info.mockRestore();
    await quiet.close();
    await svc.close();
    await env.drop();
    await up.close();
  });

  describe("OpenAI's error shape on the OpenAI-compatible paths", () => {
    it('gives the official client its error classes, statuses, types, params and codes', async () => {
      const chat = (body: Record<string, unknown>, c = oa) => apiError(() => c.chat.completions.create(body as never));
      const cases: [string, APIError, number, Partial<APIError>][] = [
        ['no messages', await chat({ model: 'router/chat', messages: [] }), 400, { type: 'invalid_request_error', param: 'messages', code: 'invalid_value' }],
        [
          'stream not a boolean',
          await chat({ model: 'router/chat', messages: [{ role: 'user', content: 'x' }], stream: 'yes' }),
          400,
          { type: 'invalid_request_error', param: 'stream' },
        ],
        [
          'unknown router',
          await chat({ model: 'router/nope', messages: [{ role: 'user', content: 'x' }] }),
          404,
          { type: 'not_found_error', param: 'model', code: 'model_not_found' },
        ],
        [
          'unknown key',
          await chat(
            { model: 'router/chat', messages: [{ role: 'user', content: 'x' }] },
            new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: 'rk_forged', maxRetries: 0 }),
          ),
          401,
          { type: 'authentication_error', param: null, code: 'invalid_api_key' },
        ],
        [
          'telemetry key',
          await apiError(() => new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: telemetryKey, maxRetries: 0 }).models.list()),
          403,
          { type: 'permission_error', code: 'insufficient_permissions' },
        ],
        [
          'an OpenAI path the router does not offer',
          await apiError(() => oa.completions.create({ model: 'router/chat', prompt: 'x' })),
          404,
          { type: 'not_found_error', code: 'unknown_url' },
        ],
        [
          'a model the key cannot call',
          await apiError(() => oa.models.retrieve('nope')),
          404,
          { type: 'not_found_error', param: 'model', code: 'model_not_found' },
        ],
        [
          'every attempt failed',
          await chat({ model: 'router/dead', messages: [{ role: 'user', content: 'x' }] }),
          502,
          { type: 'api_error', param: null, code: 'upstream_failed' },
        ],
      ];
      for (const [what, err, status, fields] of cases) {
        expect([what, err.status]).toEqual([what, status]);
        expect([what, err]).toEqual([what, expect.objectContaining(fields)]);
        expect([what, Object.keys(err.error as object).sort()]).toEqual([what, ['code', 'message', 'param', 'type']]);
        expect([what, err.requestID]).toEqual([what, expect.stringMatching(UUID)]);
      }
      const byWhat = new Map(cases.map(([what, err]) => [what, err.message]));
      expect(byWhat.get('unknown router')).toContain('router/nope');
      // The failed attempts reach the caller (the SDK used to show "502 status code (no body)").
      expect(byWhat.get('every attempt failed')).toMatch(/down: upstream answered 500 \(500\); down: upstream answered 500/);
      // `models.retrieve` answers a router's entry (its id holds a slash).
      expect(await oa.models.retrieve('router/chat')).toMatchObject({ id: 'router/chat', object: 'model' });
      // `stream: null` is "not set", as OpenAI takes it: a JSON answer.
      const unset = await oa.chat.completions.create({ model: 'router/chat', messages: [{ role: 'user', content: 'x' }], stream: null });
      expect(unset.object).toBe('chat.completion');
    });

    it('answers 503 service_unavailable with Retry-After when every model of the router is disabled', async () => {
      expect((await admin.patch('/admin/models/alpha', { enabled: false })).status).toBe(200);
      try {
        const err = await apiError(() => oa.chat.completions.create({ model: 'router/chat', messages: [{ role: 'user', content: 'x' }] }));
        expect(err).toMatchObject({ status: 503, type: 'api_error', code: 'service_unavailable' });
        expect(err.headers?.get('retry-after')).toBe('30');
      } finally {
        expect((await admin.patch('/admin/models/alpha', { enabled: true })).status).toBe(200);
      }
    });

    it('uses the shape for what is refused before the controller: bad JSON, empty body, media type, size, no key', async () => {
      const send = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }, key = ADMIN_KEY) =>
        fetch(svc.url + path, { method: 'POST', headers: { ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) }, body });
      const big = JSON.stringify({ model: 'router/chat', messages: [{ role: 'user', content: 'x'.repeat(70_000) }] });
      const cases: [string, Response, number, string][] = [
        ['malformed JSON', await send('/v1/chat/completions', '{"model": "router/chat", "messages": ['), 400, 'invalid_request_body'],
        // An empty JSON body is no body: the request then lacks model and messages.
        ['empty JSON body', await send('/v1/chat/completions', ''), 400, 'invalid_value'],
        ['not JSON', await send('/v1/chat/completions', '<chat/>', { 'content-type': 'application/xml' }), 415, 'unsupported_media_type'],
        ['too large', await send('/v1/chat/completions', big), 413, 'request_too_large'],
        ['no key', await send('/v1/chat/completions', '{}', { 'content-type': 'application/json' }, ''), 401, 'invalid_api_key'],
      ];
      for (const [what, res, status, code] of cases) {
        const body = (await res.json()) as { error: Record<string, unknown> };
        expect([what, res.status, res.headers.get('content-type')]).toEqual([what, status, expect.stringContaining('application/json')]);
        expect([what, body.error]).toEqual([what, { message: expect.any(String), type: expect.any(String), param: null, code }]);
        expect([what, res.headers.get('x-request-id')]).toEqual([what, expect.stringMatching(UUID)]);
      }
      // Our own paths keep problem+json for the same mistakes.
      for (const res of [await send('/v1/route', '{"policy":'), await send('/v1/route', '<r/>', { 'content-type': 'application/xml' })]) {
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(((await res.json()) as { errors: { path: string }[] }).errors[0].path).toBe('(body)');
      }
    });
  });

  describe('request ids', () => {
    it('keeps a valid x-request-id, echoes it on answers, errors and streams, and sends it upstream', async () => {
      const { response } = await oa.chat.completions
        .create({ model: 'router/chat', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'gw-req-1' } })
        .withResponse();
      expect(response.headers.get('x-request-id')).toBe('gw-req-1');
      expect(up.lastHeaders.get('up-alpha')?.['x-request-id']).toBe('gw-req-1');

      const stream = await oa.chat.completions
        .create({ model: 'router/chat', messages: [{ role: 'user', content: 'hi' }], stream: true }, { headers: { 'x-request-id': 'gw-req-2' } })
        .withResponse();
      expect(stream.response.headers.get('x-request-id')).toBe('gw-req-2');
      expect(stream.response.headers.get('content-type')).toContain('text/event-stream');
      for await (const _ of stream.data);
      expect(up.lastHeaders.get('up-alpha')?.['x-request-id']).toBe('gw-req-2');

      const id = { 'x-request-id': 'gw-req-3' };
      const errors = [
        await admin.call('POST', '/v1/chat/completions', { model: 'router/chat', messages: [] }, id),
        await client(svc.url, '').call('GET', '/admin/keys', undefined, id),
        await admin.call('GET', '/v1/nowhere', undefined, id),
        await admin.call('PUT', '/admin/policies/x', { algorithm: 'magic' }, id),
      ];
      expect(errors.map((r) => [r.status, r.headers.get('x-request-id')])).toEqual([
        [400, 'gw-req-3'],
        [401, 'gw-req-3'],
        [404, 'gw-req-3'],
        [400, 'gw-req-3'],
      ]);
      // A malformed URL is refused before routing: it gets the id too.
      const badUrl = await fetch(`${svc.url}/admin/models/%E0%A4%A`, { headers: id });
      expect([badUrl.status, badUrl.headers.get('x-request-id')]).toEqual([400, 'gw-req-3']);
    });

    it('replaces a missing, over-long or unsafe id with a generated one, which is what the upstream gets', async () => {
      for (const bad of [undefined, 'a'.repeat(129), 'two words', 'x;y=1', 'quote"d']) {
        const { response } = await oa.chat.completions
          .create({ model: 'router/chat', messages: [{ role: 'user', content: 'hi' }] }, bad === undefined ? {} : { headers: { 'x-request-id': bad } })
          .withResponse();
        const id = response.headers.get('x-request-id');
        expect([bad, id]).toEqual([bad, expect.stringMatching(UUID)]);
        expect(up.lastHeaders.get('up-alpha')?.['x-request-id']).toBe(id);
      }
      const ids = await Promise.all([1, 2, 3].map(async () => (await admin.get('/health/live')).headers.get('x-request-id')));
      expect(new Set(ids).size).toBe(3);
    });
  });

  describe('access log', () => {
    it('logs one line per request: method, route pattern, status, duration, key id, request id; never prompts or keys', async () => {
      const id = (n: number) => ({ 'x-request-id': `gw-log-${n}` });
      await admin.call('GET', '/admin/models/alpha', undefined, id(1));
      await admin.call('POST', '/v1/chat/completions', { model: 'router/chat', messages: [{ role: 'user', content: PROMPT }] }, id(2));
      await client(svc.url, 'rk_not-a-key').call('GET', '/v1/models', undefined, id(3));
      await admin.call('GET', '/v1/nowhere?q=1', undefined, id(4));
      await oa.chat.completions
        .create({ model: 'router/chat', messages: [{ role: 'user', content: PROMPT }], stream: true }, { headers: id(5) })
        .then(async (s) => {
          for await (const _ of s);
        });
      await eventually(async () => [1, 2, 3, 4, 5].every((n) => accessLine(`gw-log-${n}`) !== undefined));
      const line = (n: number) => {
        const { ms, ...rest } = accessLine(`gw-log-${n}`)!;
        expect(typeof ms === 'number' && ms >= 0).toBe(true);
        return rest;
      };
      expect(line(1)).toEqual({ method: 'GET', route: '/admin/models/:id', status: 200, keyId: 'bootstrap', requestId: 'gw-log-1' });
      expect(line(2)).toEqual({ method: 'POST', route: '/v1/chat/completions', status: 200, keyId: 'bootstrap', requestId: 'gw-log-2' });
      expect(line(3)).toEqual({ method: 'GET', route: '/v1/models', status: 401, keyId: null, requestId: 'gw-log-3' });
      expect(line(4)).toEqual({ method: 'GET', route: '(no route)', status: 404, keyId: null, requestId: 'gw-log-4' });
      expect(line(5)).toEqual({ method: 'POST', route: '/v1/chat/completions', status: 200, keyId: 'bootstrap', requestId: 'gw-log-5' });
      expect(records().filter((r) => r.fields.requestId === 'gw-log-2')).toHaveLength(1);
      const logged = JSON.stringify(info.mock.calls);
      expect(logged).not.toContain(PROMPT);
      expect(logged).not.toContain(ADMIN_KEY);
      expect(logged).not.toContain('rk_not-a-key');
    });

    it('is off with ACCESS_LOG=false', async () => {
      const r = await client(quiet.url).call('GET', '/admin/models/alpha', undefined, { 'x-request-id': 'gw-quiet-1' });
      expect([r.status, r.headers.get('x-request-id')]).toEqual([200, 'gw-quiet-1']);
      await admin.call('GET', '/health/live', undefined, { 'x-request-id': 'gw-loud-1' });
      await eventually(async () => accessLine('gw-loud-1') !== undefined);
      expect(accessLine('gw-quiet-1')).toBeUndefined();
    });
  });

  describe('PATCH /admin/models/{id}', () => {
    const full = {
      baseUrl: 'http://127.0.0.1:9/v1',
      upstreamModel: 'up-patchme',
      apiKeyEnv: 'UPSTREAM_PATCHME_KEY',
      pricing: { inputPerMTok: 1, outputPerMTok: 2 },
      energy: { joulesPerOutputToken: 0.4 },
      enabled: false,
    };

    it('sets the fields given and keeps the others (including enabled: false and the energy prior)', async () => {
      expect((await admin.put('/admin/models/patchme', full)).status).toBe(200);
      const r = await admin.patch('/admin/models/patchme', { pricing: { inputPerMTok: 3, outputPerMTok: 4 } });
      expect(r.status).toBe(200);
      const want = { id: 'patchme', ...full, pricing: { inputPerMTok: 3, outputPerMTok: 4 } };
      expect(r.body).toEqual(want);
      const { breaker: _b, ...stored } = (await admin.get('/admin/models/patchme')).body;
      expect(stored).toEqual(want);
      expect((await admin.patch('/admin/models/patchme', { enabled: true, baseUrl: 'http://127.0.0.1:10/v1' })).body).toEqual({
        ...want,
        enabled: true,
        baseUrl: 'http://127.0.0.1:10/v1',
      });
      // Logged with its actor and the fields it set, like PUT.
      expect(records()).toEqual(
        expect.arrayContaining([{ msg: 'model updated', fields: { model: 'patchme', actor: 'bootstrap', fields: ['baseUrl', 'enabled'] } }]),
      );
    });

    it('keeps every field of concurrent patches of one model', async () => {
      const patches = [
        { pricing: { inputPerMTok: 7, outputPerMTok: 8 } },
        { energy: { joulesPerOutputToken: 0.9 } },
        { upstreamModel: 'up-concurrent' },
        { apiKeyEnv: 'UPSTREAM_OTHER_KEY' },
      ];
      const answers = await Promise.all(patches.map((p) => admin.patch('/admin/models/patchme', p)));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect((await admin.get('/admin/models/patchme')).body).toMatchObject(Object.assign({}, ...patches));
    });

    it('reaches the proxy at once: the next call goes to the new upstream model name', async () => {
      expect((await admin.patch('/admin/models/alpha', { upstreamModel: 'up-renamed' })).status).toBe(200);
      const before = up.hits.get('up-renamed') ?? 0;
      await oa.chat.completions.create({ model: 'router/chat', messages: [{ role: 'user', content: 'hi' }] });
      expect(up.hits.get('up-renamed')).toBe(before + 1);
      expect((await admin.patch('/admin/models/alpha', { upstreamModel: 'up-alpha' })).status).toBe(200);
    });

    it('validates like PUT, field by field; 404 for an unknown model; admin only', async () => {
      const bad: [unknown, string][] = [
        [{}, '(root)'],
        [{ pricing: { inputPerMTok: -1, outputPerMTok: 1 } }, 'pricing.inputPerMTok'],
        [{ pricing: { inputPerMTok: 1 } }, 'pricing.outputPerMTok'],
        [{ energy: { joulesPerOutputToken: 1e9 } }, 'energy.joulesPerOutputToken'],
        [{ baseUrl: 'not a url' }, 'baseUrl'],
        [{ enabled: 'yes' }, 'enabled'],
        [{ apiKeyEnv: 'DATABASE_URL' }, 'apiKeyEnv'],
      ];
      for (const [body, field] of bad) {
        const r = await admin.patch('/admin/models/patchme', body);
        expect([field, r.status, r.headers.get('content-type')]).toEqual([field, 400, expect.stringMatching(/^application\/problem\+json/)]);
        expect([field, r.body.errors.map((e: { path: string }) => e.path)]).toEqual([field, expect.arrayContaining([field])]);
      }
      const unknown = await admin.patch('/admin/models/bogus', { pricing: { inputPerMTok: 1, outputPerMTok: 1 } });
      expect([unknown.status, unknown.body.type]).toEqual([404, 'urn:router:problem:model-not-found']);
      expect((await admin.get('/admin/models/bogus')).status).toBe(404);
      const routeKey = (await admin.post('/admin/keys', { name: 'app', scope: 'route' })).body.secret;
      expect((await client(svc.url, routeKey).patch('/admin/models/patchme', { enabled: true })).status).toBe(403);
      // Nothing of the refused patches was stored.
      expect((await admin.get('/admin/models/patchme')).body).toMatchObject({
        pricing: { inputPerMTok: 7, outputPerMTok: 8 },
        apiKeyEnv: 'UPSTREAM_OTHER_KEY',
      });
    });

    it('is in the OpenAPI document with its request schema', async () => {
      const doc = (await admin.get('/openapi.json')).body;
      const op = doc.paths['/admin/models/{id}'].patch;
      expect(Object.keys(op.requestBody.content['application/json'].schema.properties).sort()).toEqual(
        ['apiKeyEnv', 'baseUrl', 'enabled', 'energy', 'pricing', 'streamUsage', 'upstreamModel'].sort(),
      );
      expect(doc.paths['/v1/chat/completions'].post.responses['4XX'].content['application/json']).toBeDefined();
    });
  });

  // Last: it spends this replica's budget of lookups for unknown keys.
  it('answers 429 rate_limit_error with Retry-After when unknown keys exhaust the lookup budget', async () => {
    let limited: APIError | undefined;
    for (let i = 0; i < 30 && !limited; i++) {
      const err = await apiError(() => new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: `rk_random-${i}`, maxRetries: 0 }).models.list());
      if (err.status === 429) limited = err;
      else expect(err.status).toBe(401);
    }
    expect(limited).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(Number(limited!.headers?.get('retry-after'))).toBeGreaterThan(0);
  });
});
