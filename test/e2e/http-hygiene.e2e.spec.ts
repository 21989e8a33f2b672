import { jest } from '@jest/globals';
import { currentRequestId, Logger } from '@app/infra';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { connect, type Socket } from 'node:net';
import { ADMIN_KEY, client, freshEnvironment, type Running, startService } from '../support/harness.js';

type Env = Awaited<ReturnType<typeof freshEnvironment>>;

/** Bodies: JSON only; an empty JSON body is no body; anything else is a 415 in the path's error shape. */
describe('request bodies and policy warnings', () => {
  let env: Env;
  let svc: Running;

  beforeAll(async () => {
    env = await freshEnvironment('http_hygiene');
    svc = await startService(env, 1);
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
    await env?.drop();
  });

  it('accepts an empty JSON body where none is needed, refuses other media types with 415', async () => {
    const c = client(svc.url);
    expect((await c.put('/admin/models/m', {})).status).toBe(200);
    const created = await c.put('/admin/policies/p', { algorithm: 'linucb', arms: ['m'] });
    expect(created.status).toBe(201);
    // An arm the proxy cannot call is accepted (routing through /v1/route works) but named.
    expect(created.body.warnings).toEqual([expect.stringContaining('arm m has no baseUrl')]);
    expect((await c.get('/admin/policies/p/stats')).body.warnings).toEqual(created.body.warnings);
    // So is one whose key variable this replica does not have (the proxy refuses to call it without its key).
    delete process.env.UPSTREAM_HYGIENE_UNSET;
    expect((await c.put('/admin/models/keyless', { baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'UPSTREAM_HYGIENE_UNSET' })).status).toBe(200);
    const keyless = await c.put('/admin/policies/keyless', { algorithm: 'linucb', arms: ['keyless'] });
    expect(keyless.body.warnings).toEqual([expect.stringContaining('apiKeyEnv UPSTREAM_HYGIENE_UNSET is not set')]);
    expect((await c.get('/admin/policies/keyless/stats')).body.warnings).toEqual(keyless.body.warnings);
    const json = { 'content-type': 'application/json' };
    // A client that always sends the JSON content type, with no body.
    expect((await c.call('POST', '/admin/policies/p/rebuild', '', json)).status).toBe(200);
    expect((await c.call('POST', '/admin/policies/p/reset', '  ', json)).status).toBe(200);
    // Where a body is needed, an empty one is a 400 naming it, not a parse error.
    const empty = await c.call('POST', '/v1/route', '', json);
    expect([empty.status, empty.body.errors[0].path]).toEqual([400, '(root)']);
    // Forms and text are not parsed into half-understood bodies: 415 in each path's shape.
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'policy=p&input=hi'],
      ['text/plain', '{"policy":"p","input":"hi"}'],
    ] as const) {
      const r = await c.call('POST', '/v1/route', body, { 'content-type': type });
      expect([type, r.status, r.headers.get('content-type')]).toEqual([type, 415, expect.stringMatching(/^application\/problem\+json/)]);
      const o = await c.call('POST', '/v1/chat/completions', body, { 'content-type': type });
      expect([type, o.status, o.body.error.type]).toEqual([type, 415, 'invalid_request_error']);
    }
    // JSON still parses, with prototype-poisoning keys refused.
    expect((await c.post('/v1/route', { policy: 'p', input: 'hi' })).status).toBe(200);
    // The design's own example gives input, messages and features together: input is what a builtin policy reads.
    const all = await c.post('/v1/route', { policy: 'p', input: 'hi', messages: [{ role: 'user', content: 'other' }], features: [0.1, 0.2] });
    expect(all.status).toBe(200);
    const poisoned = await c.call('POST', '/v1/route', '{"policy":"p","input":"hi","__proto__":{"x":1}}', json);
    expect(poisoned.status).toBe(400);
    // … said as such: the body is JSON, one of its keys is refused.
    expect(poisoned.body.detail).toContain('__proto__');
    const nested = await c.call('POST', '/v1/chat/completions', '{"model":"router/p","messages":[],"metadata":{"__proto__":"x"}}', json);
    expect([nested.status, nested.body.error.message]).toEqual([400, expect.stringContaining('__proto__')]);
    // A compressed body is refused for what it is (the api reads bodies as sent), not read as broken JSON.
    const gzipped = await c.call('POST', '/v1/route', gzipSync('{"policy":"p","input":"hi"}'), { ...json, 'content-encoding': 'gzip' });
    expect([gzipped.status, gzipped.body.detail]).toEqual([415, expect.stringContaining('Content-Encoding "gzip" is not supported')]);
    // JSON is UTF-8: a body declared in another charset is refused for that, not read as UTF-8 bytes it is not.
    const utf16 = await c.call('POST', '/v1/route', Buffer.from('{"policy":"p","input":"hi"}', 'utf16le'), {
      'content-type': 'application/json; charset=utf-16',
    });
    expect([utf16.status, utf16.body.type, utf16.body.detail]).toEqual([415, 'urn:router:problem:unsupported-charset', expect.stringContaining('"utf-16"')]);
    const latin1 = await c.call('POST', '/v1/chat/completions', '{}', { 'content-type': 'application/json;charset="ISO-8859-1"' });
    expect([latin1.status, latin1.body.error.message]).toEqual([415, expect.stringContaining('"iso-8859-1" is not supported')]);
    for (const type of ['application/json; charset=UTF-8', 'application/json;charset="utf-8"', 'application/json; charset=us-ascii'])
      expect([type, (await c.call('POST', '/v1/route', '{"policy":"p","input":"hi"}', { 'content-type': type })).status]).toEqual([type, 200]);
    // OpenAI's envelope says a body error once.
    const text = await c.call('POST', '/v1/chat/completions', '{}', { 'content-type': 'text/plain' });
    const said = text.body.error.message as string;
    expect(said.indexOf('Unsupported Media Type')).toBe(said.lastIndexOf('Unsupported Media Type'));
  }, 60_000);

  it('names the field each refusal is about, in the type of what was not found', async () => {
    const c = client(svc.url);
    // On the OpenAI path a policy is named by `model`.
    const escalation = await c.post('/v1/chat/completions', { model: 'router/p.escalation', messages: [{ role: 'user', content: 'hi' }] });
    expect([escalation.status, escalation.body.error.param]).toEqual([400, 'model']);
    // A model-level reading of an unknown model: the model is what was not found.
    const reading = await c.post('/v1/energy', { model: 'nope', joules: 5, outputTokens: 5 });
    expect([reading.status, reading.body.type, reading.body.errors[0].path]).toEqual([404, 'urn:router:problem:model-not-found', 'model']);
    // A model id a request would always read as a router.
    const router = await c.put('/admin/models/router%2Fx', {});
    expect([router.status, router.body.errors[0].path]).toEqual([400, 'id']);
    expect((await c.get('/admin/models/router%2Fx')).status).toBe(404);
    // A key's policies listed twice.
    const twice = await c.post('/admin/keys', { name: 'twice', scope: 'route', policies: ['p', 'p'] });
    expect([twice.status, twice.body.errors[0].path]).toEqual([400, 'policies.1']);
  }, 60_000);

  it('serves each request inside its request context (every log line names it) and counts it per route pattern', async () => {
    const c = client(svc.url);
    const seen: Array<[string, string | undefined]> = [];
    const info = jest.spyOn(Logger.prototype, 'info').mockImplementation((msg: string) => {
      seen.push([msg, currentRequestId()]);
    });
    try {
      // A log line written by a handler after the body was read from the socket (PATCH with a JSON body).
      const r = await c.call('PATCH', '/admin/models/m', { upstreamModel: 'm-12' }, { 'x-request-id': 'hyg-ctx-1' });
      expect(r.status).toBe(200);
      // The same with the body arriving in pieces after the headers: the handler resumes from socket callbacks.
      expect(await slowPatch(svc.url, '/admin/models/m', JSON.stringify({ upstreamModel: 'm-13' }), 'hyg-ctx-2')).toBe(200);
    } finally {
      info.mockRestore();
    }
    expect(seen.filter(([msg]) => msg === 'model updated').map(([, id]) => id)).toEqual(['hyg-ctx-1', 'hyg-ctx-2']);
    // Outside a request there is no id.
    expect(currentRequestId()).toBeUndefined();
    const metrics = (await c.get('/metrics')).body as string;
    expect(metrics).toMatch(/router_http_request_duration_seconds_count\{method="PATCH",route="\/admin\/models\/:id",status="200"\} 2/);
    // Process metrics under one prefix, as the worker's (`router_worker_process_*`): no doubled `process_`.
    expect(metrics).toMatch(/^router_process_resident_memory_bytes \d+/m);
    expect(metrics).toMatch(/^router_nodejs_eventloop_lag_p99_seconds \S+/m);
    expect(metrics).not.toContain('process_process_');
  }, 60_000);
});

/** MAX_CONNECTIONS: idle sockets cannot take every file descriptor; a connection over the cap is closed at once. */
describe('connection cap', () => {
  let env: Env;
  let svc: Running;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    env = await freshEnvironment('http_cap');
    svc = await startService(env, 1, { MAX_CONNECTIONS: '4' });
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await svc?.close();
    await env?.drop();
  });

  it('closes connections beyond MAX_CONNECTIONS on arrival, counts them, and serves again once one closes', async () => {
    const { port } = new URL(svc.url);
    /** A connection, and whether the server closed it within 500 ms (before any request). */
    const open = async (): Promise<{ socket: Socket; closed: boolean }> => {
      const socket = connect(Number(port), '127.0.0.1');
      sockets.push(socket);
      socket.on('error', () => undefined);
      const closed = await new Promise<boolean>((resolve) => {
        socket.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 500);
      });
      return { socket, closed };
    };
    /** GET /metrics over a fresh connection: the whole answer as text ('' if the connection was closed first). */
    const metrics = () =>
      new Promise<string>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
        sockets.push(socket);
        let text = '';
        socket.on('data', (b: Buffer) => (text += b.toString()));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(text));
      });
    const idle = [];
    for (let i = 0; i < 4; i++) idle.push(await open());
    expect(idle.map((c) => c.closed)).toEqual([false, false, false, false]);
    // The fifth is closed without an answer, and so is a request on a sixth.
    expect((await open()).closed).toBe(true);
    expect(await metrics()).toBe('');
    idle[0].socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const text = await metrics();
    expect(text).toMatch(/^HTTP\/1.1 200/);
    expect(text).toMatch(/^router_http_connections_dropped_total 2$/m);
  }, 30_000);
});

/** A PATCH whose body is written in two halves, 100 ms apart, after the headers were sent. */
function slowPatch(base: string, path: string, body: string, requestId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      base + path,
      {
        method: 'PATCH',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${ADMIN_KEY}`,
          'x-request-id': requestId,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.flushHeaders();
    setTimeout(() => req.write(body.slice(0, 5)), 100);
    setTimeout(() => req.end(body.slice(5)), 200);
  });
}
