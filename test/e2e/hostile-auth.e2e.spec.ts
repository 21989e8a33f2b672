import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { KeysRepository } from '@app/persistence';
import { KeyRevocations } from '@app/store';
import { migrate } from '../../scripts/migrate.js';
import { ADMIN_KEY, client, deleteRedisPrefix, eventually, freshEnvironment, REDIS_URL, type Running, startService } from '../support/harness.js';
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-services.js';

/**
 * Hostile clients against the real app (real Redis and Postgres): floods of random bearer tokens, revoked keys,
 * requests that never finish, probing of policy names, asset names that are Object.prototype members, and
 * /metrics scraped by strangers.
 */
const DIM = 4;
const features = [0.1, 0.2, 0.3, 0.4];
const randomToken = () => `rk_${randomBytes(24).toString('base64url')}`;

async function setUpPolicies(url: string, names: string[]) {
  const admin = client(url);
  for (const m of ['m1', 'm2']) expect((await admin.put(`/admin/models/${m}`, {})).status).toBeLessThan(300);
  for (const name of names)
    expect((await admin.put(`/admin/policies/${name}`, { algorithm: 'linucb', arms: ['m1', 'm2'], features: { source: 'caller', dim: DIM } })).status).toBe(
      201,
    );
}

function count(xs: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** Sends `n` requests with a fresh random bearer token each, `concurrency` at a time; counts the statuses. */
async function flood(url: string, n: number, concurrency = 32): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const res = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${randomToken()}` } });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

describe('a flood of random bearer tokens, then Postgres stops', () => {
  let pg: PrivatePostgres;
  let svc: Running;
  const prefix = `thostile${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    await migrate(pg.url, undefined, () => undefined);
    svc = await startService({ databaseUrl: pg.url, prefix }, 0);
  });
  afterAll(async () => {
    await svc?.close();
    pg?.destroy();
    await deleteRedisPrefix(prefix);
  });

  it('keeps routing a known key, and makes a bounded number of Postgres lookups', async () => {
    await setUpPolicies(svc.url, ['flooded']);
    const key = await client(svc.url).post('/admin/keys', { name: 'product', scope: 'route', policies: ['flooded'] });
    expect(key.status).toBe(201);
    const product = client(svc.url, key.body.secret);
    await eventually(async () => (await product.post('/v1/route', { policy: 'flooded', features })).status === 200);

    // Count what reaches Postgres: the guard's key lookups go through this repository instance.
    const repo = svc.api.get(KeysRepository, { strict: false });
    const findBySecret = repo.findBySecret.bind(repo);
    let lookups = 0;
    repo.findBySecret = (secret: string) => {
      lookups++;
      return findBySecret(secret);
    };

    const t0 = Date.now();
    const statuses = await flood(svc.url, 20_000);
    const seconds = (Date.now() - t0) / 1000;
    const lookupsDuringFlood = lookups;

    await pg.stop();
    const afterStop: number[] = [];
    for (let i = 0; i < 20; i++) afterStop.push((await product.post('/v1/route', { policy: 'flooded', features })).status);
    console.log(
      `flood: 20000 random tokens in ${seconds.toFixed(1)} s -> ${JSON.stringify(Object.fromEntries(statuses))}, ${lookupsDuringFlood} Postgres lookups; ` +
        `then, Postgres stopped, the known key answered ${JSON.stringify(Object.fromEntries(count(afterStop)))}`,
    );
    // The known key still routes with Postgres stopped: random tokens could not push it out of the cache.
    expect(afterStop.every((s) => s === 200)).toBe(true);

    // More random tokens while Postgres is away: refused (429, or 503 when a lookup was allowed and failed), never
    // a 500, and they cannot evict the known key either.
    const during = await flood(svc.url, 2000);
    console.log(`2000 random tokens with Postgres stopped -> ${JSON.stringify(Object.fromEntries(during))}`);
    expect([...during.keys()].every((s) => s === 429 || s === 503)).toBe(true);
    expect((await product.post('/v1/route', { policy: 'flooded', features })).status).toBe(200);

    // Every random token answered 401 (looked up, unknown) or 429 (over the lookup budget, no query); nothing else.
    expect([...statuses.keys()].sort()).toEqual([401, 429]);
    expect(statuses.get(401)).toBe(lookupsDuringFlood);
    // Lookups are bounded by the per-client budget (default burst 20, 10/s), not by the number of tokens.
    expect(lookupsDuringFlood).toBeLessThanOrEqual(20 + Math.ceil(10 * seconds) + 1);
  }, 180_000);
});

describe('replicas, slow requests, policy probing, assets, metrics', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let a: Running;
  let b: Running;
  /** A third replica with a 1 s request timeout and a metrics token. */
  let c: Running;
  const METRICS_TOKEN = 'metrics-token-0123456789';

  beforeAll(async () => {
    env = await freshEnvironment('e2e_hostile');
    a = await startService(env, 0);
    b = await startService(env, 0);
    c = await startService(env, 0, { REQUEST_TIMEOUT_MS: '1000', METRICS_TOKEN });
    await setUpPolicies(a.url, ['open', 'secret']);
  });
  afterAll(async () => {
    for (const s of [a, b, c]) await s?.close();
    await env?.drop();
  });

  it('a key revoked on one replica is refused by another within 1 s', async () => {
    const key = await client(a.url).post('/admin/keys', { name: 'leaver', scope: 'route' });
    expect(key.status).toBe(201);
    const onA = client(a.url, key.body.secret);
    const onB = client(b.url, key.body.secret);
    await eventually(async () => (await onB.post('/v1/route', { policy: 'open', features })).status === 200);
    expect((await onA.post('/v1/route', { policy: 'open', features })).status).toBe(200);

    expect((await client(a.url).del(`/admin/keys/${key.body.id}`)).status).toBe(204);
    const t0 = Date.now();
    let refusedAfterMs = -1;
    while (Date.now() - t0 < 5000) {
      if ((await onB.post('/v1/route', { policy: 'open', features })).status === 401) {
        refusedAfterMs = Date.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log(`revocation reached replica B after ${refusedAfterMs} ms`);
    expect(refusedAfterMs).toBeGreaterThanOrEqual(0);
    expect(refusedAfterMs).toBeLessThan(1000);
    expect((await onA.post('/v1/route', { policy: 'open', features })).status).toBe(401);
    expect((await onB.get('/v1/models')).status).toBe(401);
  });

  it('a replica whose Redis subscription was cut when a key was revoked refuses the key once it reconnects', async () => {
    const key = await client(a.url).post('/admin/keys', { name: 'leaver-2', scope: 'route' });
    const onB = client(b.url, key.body.secret);
    await eventually(async () => (await onB.post('/v1/route', { policy: 'open', features })).status === 200);

    // What DELETE /admin/keys/{id} does, with every replica's revocation subscription cut just before the
    // announcement (they reconnect ≥ 50 ms later, so the pub/sub message reaches none of them).
    expect(await a.api.get(KeysRepository, { strict: false }).revoke(key.body.id)).toBe(true);
    const redis = new Redis(REDIS_URL);
    try {
      const revocations = new KeyRevocations(redis, env.prefix);
      const subscribers = String(await redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub'))
        .split('\n')
        .filter((line) => line.includes(` name=${revocations.connectionName} `))
        .map((line) => /\bid=(\d+)/.exec(line)![1]);
      expect(subscribers).toHaveLength(3); // a, b and c
      const t0 = Date.now();
      await Promise.all([...subscribers.map((id) => redis.call('CLIENT', 'KILL', 'ID', id)), revocations.announce(key.body.id)]);
      await eventually(async () => (await onB.post('/v1/route', { policy: 'open', features })).status === 401, 5000, 20);
      console.log(`revocation reached replica B ${Date.now() - t0} ms after its subscription was cut`);
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      await redis.quit();
    }
  });

  it('answers 408 and closes a connection whose request does not arrive within REQUEST_TIMEOUT_MS', async () => {
    const port = Number(new URL(c.url).port);
    const head = 'POST /v1/route HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';
    const partialBody = await rawExchange(port, [`${head}Content-Length: 1000\r\n\r\n{"policy":`]);
    const partialHeaders = await rawExchange(port, [`${head}Content-Length: 2`]);
    // A whole request sent in two parts 300 ms apart is answered normally (here 401: no key).
    const slowButWhole = await rawExchange(port, [`${head}Content-Length: 2\r\nConnection: close\r\n\r\n`, '{}'], 300);
    console.log(`408 after ${partialBody.ms} ms (partial body), ${partialHeaders.ms} ms (partial headers)`);
    for (const r of [partialBody, partialHeaders]) {
      expect(r.closed).toBe(true);
      expect(r.data).toMatch(/^HTTP\/1\.1 408 /);
      expect(r.data).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/);
      expect(r.ms).toBeGreaterThanOrEqual(900);
      expect(r.ms).toBeLessThan(2000); // the limit, plus Node's check interval (250 ms here)
      expect(r.data).toMatch(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/);
    }
    expect(slowButWhole.data).toMatch(/^HTTP\/1\.1 401 /);
    // On an OpenAI-compatible path: OpenAI's envelope, with a code an OpenAI client can read.
    const proxied = await rawExchange(port, [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`,
    ]);
    expect(proxied.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(proxied.data.slice(proxied.data.indexOf('\r\n\r\n') + 4)).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'request_timeout',
    });
  });

  it("answers what Node's HTTP parser refuses in the path's error shape, then closes the connection", async () => {
    const port = Number(new URL(c.url).port);
    const bodyOf = (data: string) => JSON.parse(data.slice(data.indexOf('\r\n\r\n') + 4));
    // Headers over Node's limit (16 KiB): 431, problem+json on our paths, OpenAI's envelope on the proxy's.
    const big = `X-Big: ${'a'.repeat(20_000)}\r\n`;
    const ours = await rawExchange(port, [`POST /v1/route HTTP/1.1\r\nHost: 127.0.0.1\r\n${big}\r\n`]);
    expect([ours.closed, /^HTTP\/1\.1 431 /.test(ours.data), /\r\nContent-Type: application\/problem\+json\r\n/.test(ours.data)]).toEqual([true, true, true]);
    expect(bodyOf(ours.data)).toMatchObject({
      status: 431,
      title: 'Request Header Fields Too Large',
      type: 'urn:router:problem:http-431',
      errors: [{ path: '(headers)' }],
    });
    const proxy = await rawExchange(port, [`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n${big}\r\n`]);
    expect([proxy.closed, /^HTTP\/1\.1 431 /.test(proxy.data)]).toEqual([true, true]);
    expect(bodyOf(proxy.data)).toEqual({
      error: { message: expect.stringMatching(/too large/), type: 'invalid_request_error', param: null, code: 'headers_too_large' },
    });
    for (const answer of [ours.data, proxy.data]) expect(answer).toMatch(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/);
    // An expectation other than 100-continue: 417 in the path's shape (Node's own answer has no body), with a request id.
    for (const [path, shape] of [
      ['/v1/route', /"type":"urn:router:problem:http-417"/],
      ['/v1/chat/completions', /"code":"expectation_failed"/],
    ] as const) {
      const r = await rawExchange(port, [
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: foo\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
      ]);
      expect([/^HTTP\/1\.1 417 /.test(r.data), shape.test(r.data), /\r\nx-request-id: [0-9a-f-]{36}\r\n/i.test(r.data)]).toEqual([true, true, true]);
    }
    // A Content-Length shorter than the body: what follows it is not HTTP; the parser refuses it (before the first
    // request was answered, as both arrived together): 400 and the connection closed.
    const short = await rawExchange(port, [
      'POST /v1/route HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}{"policy":"x"}\r\n\r\n',
    ]);
    const last = short.data.slice(short.data.lastIndexOf('HTTP/1.1 '));
    expect([short.closed, /^HTTP\/1\.1 400 /.test(last), /\r\nContent-Type: application\/problem\+json\r\n/.test(last)]).toEqual([true, true, true]);
    expect(bodyOf(last)).toMatchObject({ status: 400, title: 'Bad Request', detail: 'malformed HTTP request' });
  });

  it('answers the same 404 to a restricted key for a policy it may not use and one that does not exist', async () => {
    const key = await client(a.url).post('/admin/keys', { name: 'team-open', scope: 'route', policies: ['open'] });
    const restricted = client(a.url, key.body.secret);
    await eventually(async () => (await restricted.post('/v1/route', { policy: 'open', features })).status === 200);
    const same = (r: { status: number; body: any }, name: string) => ({ status: r.status, body: { ...r.body, detail: r.body.detail.replace(name, '<name>') } });

    const forbidden = await restricted.post('/v1/route', { policy: 'secret', features });
    const missing = await restricted.post('/v1/route', { policy: 'absent', features });
    expect(forbidden.status).toBe(404);
    expect(forbidden.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(same(forbidden, 'secret')).toEqual(same(missing, 'absent'));

    const chat = (policy: string) => restricted.post('/v1/chat/completions', { model: `router/${policy}`, messages: [{ role: 'user', content: 'hi' }] });
    const [proxyForbidden, proxyMissing] = [await chat('secret'), await chat('absent')];
    expect(proxyForbidden.status).toBe(404);
    const sameError = (r: { status: number; body: any }, name: string) => ({
      status: r.status,
      message: r.body.error.message.replace(name, '<name>'),
      rest: { ...r.body.error, message: null },
    });
    expect(sameError(proxyForbidden, 'secret')).toEqual(sameError(proxyMissing, 'absent'));

    // Admin keys still tell the two apart (they may use every policy).
    expect((await client(a.url).post('/v1/route', { policy: 'secret', features })).status).toBe(200);
    expect((await client(a.url).post('/v1/route', { policy: 'absent', features })).status).toBe(404);
    // So an admin key cannot be given a list of policies that nothing would enforce, and no key names an escalation
    // policy (reached through its router only; its arms would open direct calls).
    const admin = await client(a.url).post('/admin/keys', { name: 'limited-admin', scope: 'admin', policies: ['open'] });
    expect([admin.status, admin.body.errors]).toEqual([400, [{ path: 'policies', message: expect.stringContaining('an admin key manages every policy') }]]);
    const escalation = await client(a.url).post('/admin/keys', { name: 'esc', scope: 'route', policies: ['open', 'casc.escalation'] });
    expect([escalation.status, escalation.body.errors]).toEqual([400, [{ path: 'policies.1', message: expect.stringContaining('name the router casc') }]]);
  });

  it('parses a body only once its key is let in: without one, even a body that is not JSON answers 401', async () => {
    // A large body of many keys costs tens of ms to parse: a caller without a key must not get to spend them.
    const many = `{"policy":"open","metadata":{${Array.from({ length: 50_000 }, (_, i) => `"k${i}":${i}`).join(',')}},"input":"x"`;
    const broken = `${many}, oops`;
    for (const [path, key] of [
      ['/v1/route', ''],
      ['/v1/route', 'rk_not-a-key-of-this-service'],
      ['/v1/chat/completions', 'rk_not-a-key-of-this-service'],
      ['/admin/policies/open/evaluate', ''],
    ] as const) {
      const r = await client(a.url, key).call('POST', path, broken);
      expect([path, key, r.status]).toEqual([path, key, 401]);
    }
    // A route key on an admin endpoint: 403 before the body is read.
    const key = await client(a.url).post('/admin/keys', { name: 'body-late', scope: 'route' });
    expect((await client(a.url, key.body.secret).call('POST', '/admin/policies/open/evaluate', broken)).status).toBe(403);
    // Let in, the same body is parsed and refused in the path's error shape; a valid one is read.
    const admitted = await client(a.url).call('POST', '/v1/route', broken);
    expect([admitted.status, admitted.body.type, admitted.body.detail, admitted.body.errors]).toEqual([
      400,
      'urn:router:problem:http-400',
      "the body could not be read: Body is not valid JSON but content-type is set to 'application/json'",
      [{ path: '(body)', message: "Body is not valid JSON but content-type is set to 'application/json'" }],
    ]);
    const chat = await client(a.url).call('POST', '/v1/chat/completions', broken);
    expect([chat.status, chat.body.error.code]).toEqual([400, 'invalid_request_body']);
    expect((await client(a.url).call('POST', '/v1/route', '{"policy":"open","features":[1,0,0],"__proto__":{"x":1}}')).status).toBe(400);
    expect((await client(a.url).call('POST', '/v1/route', JSON.stringify({ policy: 'open', features }))).status).toBe(200);
  });

  it('answers 404 problem+json for docs assets named like Object.prototype members', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const r = await client(a.url, '').get(`/docs/${name}`);
      expect([name, r.status]).toEqual([name, 404]);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(JSON.stringify(r.body)).not.toMatch(/ENOENT|at |node_modules/);
    }
    expect((await fetch(`${a.url}/docs/swagger-ui.css`)).status).toBe(200);
  });

  it('/metrics needs METRICS_TOKEN or an admin key when METRICS_TOKEN is set, and is open otherwise', async () => {
    const key = await client(c.url).post('/admin/keys', { name: 'scraper-wannabe', scope: 'route' });
    const cases: [string, string, number][] = [
      ['no key', '', 401],
      ['wrong token', 'metrics-token-wrong-0000', 401],
      ['route key', key.body.secret, 401],
      ['metrics token', METRICS_TOKEN, 200],
      ['admin key', ADMIN_KEY, 200],
    ];
    for (const [what, secret, status] of cases) {
      const r = await client(c.url, secret).get('/metrics');
      expect([what, r.status]).toEqual([what, status]);
      if (status === 401) {
        expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(JSON.stringify(r.body)).not.toMatch(/router_decisions_total|open|secret/);
      } else expect(r.body).toMatch(/router_decisions_total/);
    }
    const open = await client(a.url, '').get('/metrics');
    expect([open.status, typeof open.body === 'string' && open.body.includes('router_decisions_total')]).toEqual([200, true]);
  });
});

/**
 * Writes `parts` on a raw TCP connection (`gapMs` apart) and collects what comes back until the server closes it
 * (or 5 s pass).
 */
function rawExchange(port: number, parts: string[], gapMs = 0): Promise<{ data: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let data = '';
    const sock = connect(port, '127.0.0.1');
    const give = setTimeout(() => {
      sock.destroy();
      resolve({ data, closed: false, ms: Date.now() - t0 });
    }, 5000);
    sock.on('data', (b) => (data += b.toString()));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(give);
      resolve({ data, closed: true, ms: Date.now() - t0 });
    });
    void (async () => {
      for (const [i, p] of parts.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
        sock.write(p);
      }
    })();
  });
}
