import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { bodyText } from './bounded-body.js';
import { endpointUrl } from './endpoint-url.js';
import { ClientGone } from '../response-over.js';
import { classify, TtftTimeout, UpstreamMisconfigured, type UpstreamRequest, Upstreams, UpstreamStatus, UpstreamUnreachable } from './upstream.js';
import { ResponseTooLarge } from './too-large.js';
import { MalformedAnswer } from './completion-rewrite.js';
import { CompletionThreadFailed } from './completion-thread.js';
import { KeyEnvRefused, keyEnvRefusal, upstreamKey, withAllowedKeyEnv } from './upstream-key.js';

const live = () => new AbortController().signal;
const aborted = (reason: unknown) => {
  const ac = new AbortController();
  ac.abort(reason);
  return ac.signal;
};

describe('classify: only real upstream failures count toward the breaker', () => {
  it('retries (and so blames the model for) network errors, no first byte in time, 5xx and 408', () => {
    expect(classify(new UpstreamUnreachable(new Error('ECONNRESET')), live(), false)).toMatchObject({ next: 'retry', reason: 'connection' });
    expect(classify(new Error('aborted'), aborted(new TtftTimeout()), false)).toMatchObject({ next: 'retry', reason: 'ttft' });
    expect(classify(new UpstreamStatus(500, undefined), live(), false)).toMatchObject({ next: 'retry', status: 500 });
    expect(classify(new UpstreamStatus(408, undefined), live(), false)).toMatchObject({ next: 'retry', status: 408 });
    // A redirect (followed by no one: a model's baseUrl that moved) is the model's failure, not an answer to relay.
    for (const s of [301, 307, 308]) expect(classify(new UpstreamStatus(s, undefined), live(), false)).toMatchObject({ next: 'retry', status: s });
    // The body broke after the status line arrived: the upstream's fault.
    expect(classify(new Error('terminated'), live(), true)).toMatchObject({ next: 'retry', reason: 'connection' });
  });

  it('tells callers what failed and its code, never the transport error text (it names internal hosts)', () => {
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND internal-secret-host.invalid'), { code: 'ENOTFOUND' });
    const f = classify(new UpstreamUnreachable(dns), live(), false);
    expect(f).toMatchObject({ reason: 'connection', message: 'upstream unreachable (ENOTFOUND)', detail: dns.message });
    const refused = classify(new UpstreamUnreachable(Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:3999'), { code: 'ECONNREFUSED' })), live(), false);
    expect(refused.message).toBe('upstream unreachable (ECONNREFUSED)');
    // undici's socket errors carry their code on the cause.
    const broke = classify(
      Object.assign(new TypeError('terminated'), { cause: Object.assign(new Error('other side closed 10.0.0.7'), { code: 'UND_ERR_SOCKET' }) }),
      live(),
      true,
    );
    expect(broke.message).toBe("the upstream's answer broke off (UND_ERR_SOCKET)");
    expect(classify(new UpstreamUnreachable(new Error('odd failure at host-x')), live(), false).message).toBe('upstream unreachable');
    expect(classify(new UpstreamUnreachable(new Error('connect ETIMEDOUT 10.0.0.7')), live(), false)).toMatchObject({
      reason: 'timeout',
      message: 'upstream unreachable',
    });
  });

  it("retries a malformed answer (the model's fault) and stops on a failure of our completion thread (not the model's)", () => {
    expect(classify(new MalformedAnswer("the upstream's answer is not a JSON object (an array)"), live(), true)).toMatchObject({
      next: 'retry',
      reason: 'malformed',
    });
    const died = new CompletionThreadFailed('the completion thread stopped (exit code 1)');
    expect(classify(died, live(), true)).toMatchObject({ next: 'stop', reason: 'local', cause: died });
  });

  it("falls back at once (blaming the model) on the router's own request refused as configured, and on the whole call out of time", () => {
    // The model's key, permissions, name or URL: the operator's mistake, never relayed as the caller's.
    for (const s of [401, 403, 404, 405, 407, 410]) {
      const f = classify(new UpstreamStatus(s, { message: 'Incorrect API key', code: 'invalid_api_key' }), live(), false);
      expect(f).toMatchObject({ next: 'fallback', status: s, reason: 'refused' });
      expect(f.body).toBeUndefined();
    }
    // A 403 about the request's content (OpenRouter's moderation) is the caller's: relayed.
    const flagged = { message: 'Your input was flagged by moderation', code: 403, metadata: { reasons: ['violence'] } };
    expect(classify(new UpstreamStatus(403, flagged), live(), false)).toMatchObject({ next: 'relay', status: 403, body: flagged });
    // Asking again would generate the same long answer twice.
    expect(classify(new Error('aborted'), aborted(new Error('timeout')), true)).toMatchObject({ next: 'fallback', reason: 'timeout' });
  });

  it('rests a rate-limited model for the wait its upstream asked for, without blaming it', () => {
    expect(classify(new UpstreamStatus(429, undefined, 13_000), live(), false)).toMatchObject({
      next: 'rate-limited',
      status: 429,
      reason: 'rate-limited',
      retryAfterMs: 13_000,
    });
  });

  it('relays another 4xx', () => {
    expect(classify(new UpstreamStatus(400, { message: 'no' }), live(), false)).toMatchObject({
      next: 'relay',
      status: 400,
      body: { message: 'no' },
    });
  });

  it('does not blame the model for an error building the request here, a refused key, a body over the limit or a gone client', () => {
    const overflow = new RangeError('Maximum call stack size exceeded');
    expect(classify(overflow, live(), false)).toMatchObject({ next: 'stop', reason: 'local', cause: overflow });
    expect(classify(new KeyEnvRefused('DATABASE_URL', keyEnvRefusal('DATABASE_URL', 'UPSTREAM_')!), live(), false)).toMatchObject({
      next: 'skip',
      reason: 'config',
    });
    expect(classify(new ResponseTooLarge('response', 'PROXY_MAX_RESPONSE_BYTES', 10), live(), true)).toMatchObject({
      next: 'stop',
      reason: 'too-large',
      message: 'upstream response exceeded PROXY_MAX_RESPONSE_BYTES (10 bytes)',
    });
    expect(classify(new Error('aborted'), aborted(new ClientGone('the client went away')), true)).toMatchObject({ next: 'stop', reason: 'client' });
  });
});

describe('upstream key variables', () => {
  const env = { UPSTREAM_A: 'key-a', ADMIN_API_KEY: 'admin-secret' };

  it('reads only variables with the prefix', () => {
    expect(keyEnvRefusal('UPSTREAM_A', 'UPSTREAM_')).toBeNull();
    expect(keyEnvRefusal('ADMIN_API_KEY', 'UPSTREAM_')).toContain('must start with UPSTREAM_');
    expect(upstreamKey('UPSTREAM_A', 'UPSTREAM_', env)).toBe('key-a');
    expect(upstreamKey(undefined, 'UPSTREAM_', env)).toBeUndefined();
    expect(() => upstreamKey('ADMIN_API_KEY', 'UPSTREAM_', env)).toThrow(KeyEnvRefused);
    expect(() => upstreamKey('ADMIN_API_KEY', 'UPSTREAM_', env)).not.toThrow(/admin-secret/);
  });

  it('a key variable that is not set is a configuration failure naming it, never a made-up key', () => {
    expect(() => upstreamKey('UPSTREAM_MISSING', 'UPSTREAM_', env)).toThrow(/apiKeyEnv UPSTREAM_MISSING is not set/);
    expect(() => upstreamKey('UPSTREAM_EMPTY', 'UPSTREAM_', { ...env, UPSTREAM_EMPTY: '' })).toThrow(KeyEnvRefused);
    expect(classify(new KeyEnvRefused('UPSTREAM_MISSING', 'is not set'), live(), false)).toMatchObject({ next: 'skip', reason: 'config' });
  });

  it('a model config naming another variable is a 400 on apiKeyEnv', () => {
    expect(withAllowedKeyEnv({ apiKeyEnv: 'UPSTREAM_A' }, 'UPSTREAM_')).toEqual({ apiKeyEnv: 'UPSTREAM_A' });
    expect(withAllowedKeyEnv({}, 'UPSTREAM_')).toEqual({});
    expect(() => withAllowedKeyEnv({ apiKeyEnv: 'DATABASE_URL' }, 'UPSTREAM_')).toThrow(
      expect.objectContaining({ code: 'VALIDATION', errors: [expect.objectContaining({ path: 'apiKeyEnv' })] }),
    );
  });

  it('the upstreams refuse such a model at call time, before anything is sent', async () => {
    const upstreams = new Upstreams({ keyEnvPrefix: 'UPSTREAM_', maxResponseBytes: 1024 });
    const req = { endpoint: 'chat/completions' as const, inputEstimate: 1, body: '{}', stream: false, signal: live(), headers: {}, sent: false };
    await expect(upstreams.post({ id: 'm', baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'ADMIN_API_KEY', enabled: true }, req)).rejects.toBeInstanceOf(
      KeyEnvRefused,
    );
  });
});

describe('Upstreams over HTTP', () => {
  let server: Server;
  let base: string;
  let written = 0;
  let seen: { url?: string; headers?: IncomingHttpHeaders; body?: string } = {};
  const fill = Buffer.alloc(64 * 1024, 'a');

  beforeAll(async () => {
    // The model name in the body says what to answer: `<kind>/<bytes>`.
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        seen = { url: req.url, headers: req.headers, body: raw };
        const [kind, size] = String((JSON.parse(raw) as { model: string }).model).split('/');
        const total = Number(size);
        if (kind === 'reject') {
          res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'no', code: 'nope' } }));
          return;
        }
        if (kind === 'declared') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(total) });
          res.end(Buffer.alloc(total, 'a'));
          return;
        }
        res.writeHead(kind === 'error' ? 500 : 200, { 'content-type': kind === 'sse' ? 'text/event-stream' : 'application/json' });
        let left = total;
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            const c = fill.subarray(0, Math.min(left, fill.length));
            left -= c.length;
            written += c.length;
            if (!res.write(c)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end();
        };
        pump();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
  });

  afterAll(async () => {
    delete process.env.UPSTREAM_TEST_KEY;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const upstreams = new Upstreams({ keyEnvPrefix: 'UPSTREAM_', maxResponseBytes: 1024 * 1024 });
  const call = (model: string, apiKeyEnv?: string, stream = false) =>
    upstreams.post(
      { id: 'm', baseUrl: base, enabled: true, ...(apiKeyEnv ? { apiKeyEnv } : {}) },
      {
        endpoint: 'chat/completions',
        inputEstimate: 1,
        body: JSON.stringify({ model, messages: [] }),
        stream,
        signal: live(),
        headers: { 'x-request-id': 'r-1' },
        sent: false,
      },
    );

  it("posts the body as given to {base}/chat/completions, with the model's key and the headers given", async () => {
    process.env.UPSTREAM_TEST_KEY = 'sk-test';
    expect((await bodyText((await call('chunked/10', 'UPSTREAM_TEST_KEY')).chunks)).length).toBe(10);
    expect(seen.url).toBe('/v1/chat/completions');
    expect(seen.body).toBe(JSON.stringify({ model: 'chunked/10', messages: [] }));
    expect(seen.headers).toMatchObject({
      authorization: 'Bearer sk-test',
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': 'bandit-router',
      'x-request-id': 'r-1',
    });
    await bodyText((await call('chunked/1')).chunks);
    expect(seen.headers?.authorization).toBeUndefined();
    expect(endpointUrl('http://h/v1', 'chat/completions')).toBe('http://h/v1/chat/completions');
    expect(endpointUrl('http://h/v1//', 'embeddings')).toBe('http://h/v1/embeddings');
  });

  it("throws an answer outside 2xx as UpstreamStatus with its body's error object", async () => {
    await expect(call('reject/0')).rejects.toEqual(expect.objectContaining({ status: 403, error: { message: 'no', code: 'nope' } }));
    await expect(call('reject/0')).rejects.toBeInstanceOf(UpstreamStatus);
  });

  it('reads bodies up to the limit', async () => {
    expect((await bodyText((await call(`chunked/${1024 * 1024}`)).chunks)).length).toBe(1024 * 1024);
  });

  it('stops reading a chunked body past the limit and drops the connection', async () => {
    written = 0;
    const answer = await call(`chunked/${256 * 1024 * 1024}`);
    await expect(bodyText(answer.chunks)).rejects.toThrow(new ResponseTooLarge('response', 'PROXY_MAX_RESPONSE_BYTES', 1024 * 1024));
    await new Promise((r) => setTimeout(r, 100));
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });

  it('refuses a declared length over the limit before reading, and bounds error bodies too', async () => {
    await expect(call(`declared/${2 * 1024 * 1024}`)).rejects.toBeInstanceOf(ResponseTooLarge);
    written = 0;
    // An error body over the limit is not read further: the status alone is reported.
    await expect(call(`error/${64 * 1024 * 1024}`)).rejects.toEqual(expect.objectContaining({ status: 500, error: undefined }));
    await new Promise((r) => setTimeout(r, 100));
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });

  it('leaves a 2xx event stream answering a streamed request to the SSE relay (bounded per event there)', async () => {
    const answer = await call(`sse/${4 * 1024 * 1024}`, undefined, true);
    expect(answer.eventStream).toBe(true);
    expect((await bodyText(answer.chunks)).length).toBe(4 * 1024 * 1024);
  });

  it('bounds an event stream sent to a request that did not ask for one', async () => {
    written = 0;
    const answer = await call(`sse/${64 * 1024 * 1024}`);
    await expect(bodyText(answer.chunks)).rejects.toBeInstanceOf(ResponseTooLarge);
    await new Promise((r) => setTimeout(r, 100));
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });

  it('a key undici cannot send is a configuration failure of the model (skipped, its breaker untouched)', async () => {
    process.env.UPSTREAM_TEST_KEY = 'sk-test\nX-Injected: 1';
    const err: unknown = await call('chunked/1', 'UPSTREAM_TEST_KEY').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamMisconfigured);
    expect(classify(err, live(), false)).toMatchObject({ next: 'skip', reason: 'config' });
  });

  it("reports a refused connection as UpstreamUnreachable (the upstream's failure, not ours), the request not sent", async () => {
    const closed = new Upstreams({ keyEnvPrefix: 'UPSTREAM_', maxResponseBytes: 1024 });
    const req = { endpoint: 'chat/completions' as const, inputEstimate: 1, body: '{}', stream: false, signal: live(), headers: {}, sent: false };
    const err: unknown = await closed.post({ id: 'm', baseUrl: 'http://127.0.0.1:9/v1', enabled: true }, req).catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamUnreachable);
    expect(classify(err, live(), false)).toMatchObject({ next: 'retry', reason: 'connection' });
    expect(req.sent).toBe(false);
  });

  it('marks a request sent once its body went out on a connection, not while it waited for one', async () => {
    // One connection: the second request waits in the pool behind the first (which the server holds); its signal
    // fires there, and its caller stops waiting at once (undici alone would end it only when the connection frees);
    // it is never sent.
    let release: () => void = () => undefined;
    const held = createServer((req, res) => {
      req.resume();
      req.on('end', () => (release = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')));
    });
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(held.address() as AddressInfo).port}/v1/`;
    const one = new Upstreams({ keyEnvPrefix: 'UPSTREAM_', maxResponseBytes: 1024 }, new Agent({ connections: 1 }));
    const make = (signal: AbortSignal): UpstreamRequest => ({
      endpoint: 'chat/completions' as const,
      inputEstimate: 1,
      body: '{}',
      stream: false,
      signal,
      headers: {},
      sent: false,
    });
    const first = make(live());
    const second = make(AbortSignal.timeout(300));
    const third = make(live());
    // `onSent` is when the proxy starts a request's time-to-first-byte limit: not while it waits for a connection.
    const sentAt = new Map<object, number>();
    for (const r of [first, second, third]) r.onSent = () => sentAt.set(r, Date.now());
    const answered = one.post({ id: 'm', baseUrl: url, enabled: true }, first);
    let gaveUpAt = 0;
    const waited = one.post({ id: 'm', baseUrl: url, enabled: true }, second).catch((e: unknown) => ((gaveUpAt = Date.now()), e));
    const later = one.post({ id: 'm', baseUrl: url, enabled: true }, third);
    await new Promise((r) => setTimeout(r, 600));
    expect(first.sent).toBe(true);
    expect(sentAt.has(first)).toBe(true);
    expect(third.sent).toBe(false);
    expect(gaveUpAt).toBeGreaterThan(0);
    const released = Date.now();
    release();
    await bodyText((await answered).chunks);
    expect(await waited).toMatchObject({ name: 'TimeoutError' });
    expect(gaveUpAt).toBeLessThan(released);
    expect(second.sent).toBe(false);
    expect(sentAt.has(second)).toBe(false);
    // The third goes out once the connection is free, and is answered.
    await new Promise((r) => setTimeout(r, 100));
    expect(third.sent).toBe(true);
    expect(sentAt.get(third)).toBeGreaterThanOrEqual(released);
    release();
    await bodyText((await later).chunks);
    held.closeAllConnections();
    await new Promise((r) => held.close(r));
  });
});
