import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { Agent } from 'undici';
import { bodyText } from './bounded-body.js';
import { healthCheck } from './health-check.js';
import { type UpstreamRequest, Upstreams } from './upstream.js';

/**
 * The router's own check of a model, against a real local HTTP server: a request for model `hold` is held until
 * released; any other is answered after 200 ms. Tenants filling the pool must not make the check late or starve it.
 */
describe('healthCheck', () => {
  let server: Server;
  let base: string;
  const held: (() => void)[] = [];
  const opts = { keyEnvPrefix: 'UPSTREAM_', maxResponseBytes: 1024 };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const answer = () =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end('{"choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"length"}]}');
        const asked = (JSON.parse(raw) as { model: string }).model;
        if (asked === 'garbage') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>gateway says hi</html>');
        else if (asked === 'array') res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
        else if (asked === 'limited') res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '5' }).end('{"error":{"message":"slow down"}}');
        else if (asked === 'badkey') res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"invalid_api_key"}}');
        else if (asked === 'hold') held.push(answer);
        else setTimeout(answer, 200);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const model = (upstreamModel: string) => ({ id: 'm', baseUrl: base, enabled: true, upstreamModel });
  const hold = (upstreams: Upstreams, own: boolean) => {
    const req: UpstreamRequest = {
      endpoint: 'chat/completions',
      inputEstimate: 1,
      body: '{"model":"hold"}',
      stream: false,
      signal: new AbortController().signal,
      headers: {},
      sent: false,
      own,
    };
    return upstreams.post(model('hold'), req).then((a) => bodyText(a.chunks));
  };
  const releaseAll = () => held.splice(0).forEach((answer) => answer());

  it('judges an answer as a call would: a 2xx that is not a JSON object is down', async () => {
    const upstreams = new Upstreams(opts, new Agent(), new Agent(), 2);
    expect(await healthCheck(upstreams, model('garbage'), 'chat/completions', 1000)).toBe(false);
    expect(await healthCheck(upstreams, model('array'), 'embeddings', 1000)).toBe(false);
    expect(await healthCheck(upstreams, model('quick'), 'chat/completions', 1000)).toBe(true);
  });

  it("says the model is down when its upstream refuses the router's key, and nothing of a rate limit", async () => {
    const upstreams = new Upstreams(opts, new Agent(), new Agent(), 2);
    expect(await healthCheck(upstreams, model('badkey'), 'chat/completions', 1000)).toBe(false);
    expect(await healthCheck(upstreams, model('limited'), 'chat/completions', 1000)).toBeNull();
  });

  it("goes out on the router's own connections: answered while tenants' calls hold every connection of the pool", async () => {
    const upstreams = new Upstreams(opts, new Agent({ connections: 1 }), new Agent({ connections: 1 }), 1);
    const tenant = hold(upstreams, false);
    await new Promise((r) => setTimeout(r, 100));
    expect(await healthCheck(upstreams, model('quick'), 'chat/completions', 1000)).toBe(true);
    releaseAll();
    await tenant;
  });

  it('counts its time-to-first-byte limit again from when it is sent: a connection freed late is no verdict against the model', async () => {
    const upstreams = new Upstreams(opts, new Agent({ connections: 1 }), new Agent({ connections: 1 }), 1);
    const other = hold(upstreams, true);
    await new Promise((r) => setTimeout(r, 100));
    // The check waits for the connection 400 ms of its 500, then the model answers in 200 ms: 600 ms in all.
    setTimeout(releaseAll, 400);
    const t0 = Date.now();
    expect(await healthCheck(upstreams, model('quick'), 'chat/completions', 500)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    await other;
    // Never sent within its limit behind another of the router's own requests: no verdict.
    const again = hold(upstreams, true);
    await new Promise((r) => setTimeout(r, 100));
    expect(await healthCheck(upstreams, model('quick'), 'chat/completions', 300)).toBeNull();
    releaseAll();
    await again;
  });

  it('an upstream that takes no connection in time (a TLS handshake that never ends) is down', async () => {
    const sockets: Socket[] = [];
    const sink = createNetServer((socket) => void sockets.push(socket)); // accepts TCP, never speaks TLS
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    const url = `https://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/`;
    const upstreams = new Upstreams(opts);
    expect(await healthCheck(upstreams, { id: 'm', baseUrl: url, enabled: true }, 'chat/completions', 300)).toBe(false);
    // More checks at once than the router's own connections (several models on one dead origin): each is down,
    // although most waited behind the others' connection attempts (the upstream's, not the router's requests).
    const narrow = new Upstreams(opts, undefined, new Agent({ connections: 2 }), 2);
    const verdicts = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((id) => healthCheck(narrow, { id, baseUrl: url, enabled: true }, 'chat/completions', 300)),
    );
    expect(verdicts).toEqual([false, false, false, false, false]);
    sockets.forEach((socket) => socket.destroy());
    await new Promise((r) => sink.close(r));
  });
});
