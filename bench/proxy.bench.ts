import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { delayedRelay } from './support/delayed-relay.js';
import { ADMIN, startBuiltService } from './support/service.js';

/**
 * The proxy against the same local fake upstream, three paths measured in each round of the same run: the
 * upstream directly, through our `/v1/chat/completions` (policy of 2 arms on that upstream, worker running), and
 * through @portkey-ai/gateway 1.15.2 (as ../shared/perf/bench-portkey.mjs starts it). Per path: req/s at
 * `connections` for `seconds`, then 5 s of sequential requests for the added latency (p50 / p99).
 * BENCH_PROXY_ENDPOINT=embeddings measures `/v1/embeddings` instead (our side: a direct call of one model).
 * BENCH_REDIS_DELAY_MS=D puts the router's Redis D ms away (each command held that long on its way, as across a
 * network), to show what the router's Redis round trips add to a proxied call.
 * Usage: npm run bench:proxy [-- rounds seconds connections]   (needs local Redis and Postgres)
 */
const [rounds = 3, secs = 10, conns = 50] = process.argv.slice(2).map(Number);
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const EMBEDDINGS = process.env.BENCH_PROXY_ENDPOINT === 'embeddings';
const ENDPOINT = EMBEDDINGS ? '/v1/embeddings' : '/v1/chat/completions';
const BODY = EMBEDDINGS
  ? JSON.stringify({ model: 'text-embedding-3-small', input: ['The printer on floor 3 keeps jamming.', 'What should I try first?'], encoding_format: 'float' })
  : JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'The printer on floor 3 keeps jamming. What should I try first?' }] });
const OURS_BODY = JSON.stringify({ ...JSON.parse(BODY), model: EMBEDDINGS ? 'up-a' : 'router/bench' });

interface Path {
  name: string;
  port: number;
  body: string;
  headers: Record<string, string>;
}

function child(script: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const seen = (b: Buffer) => ready.test(b.toString()) && resolve(c);
    c.stdout.on('data', seen);
    c.stderr.on('data', seen);
    c.on('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
}

async function load(p: Path) {
  const r = await autocannon({
    url: `http://127.0.0.1:${p.port}${ENDPOINT}`,
    method: 'POST',
    connections: conns,
    duration: secs,
    body: p.body,
    headers: p.headers,
  });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${p.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

/** One request at a time over a keep-alive connection for `seconds`: per-request latency in µs. */
async function sequential(p: Path, seconds = 5) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: p.port, path: ENDPOINT, method: 'POST', agent, headers: p.headers }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${p.name}: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(p.body);
    });
    lat.push((performance.now() - t0) * 1000);
  }
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { p50: lat[Math.floor(lat.length / 2)], p99: lat[Math.floor(lat.length * 0.99)], n: lat.length };
}

const json = { 'content-type': 'application/json' };
const upstream = await child(join(here, 'servers/fake-openai.js'), [], { PORT: '9100' }, /READY/);
const gateway = await child(
  require.resolve('@portkey-ai/gateway/build/start-server.js'),
  ['--port=8787', '--headless'],
  { TRUSTED_CUSTOM_HOSTS: '127.0.0.1', NODE_ENV: 'production' },
  /running at/,
);
const redisDelayMs = Number(process.env.BENCH_REDIS_DELAY_MS ?? 0);
const relay = redisDelayMs > 0 ? await delayedRelay(Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').port || 6379), redisDelayMs) : null;
const svc = await startBuiltService(3903, relay ? { REDIS_URL: relay.url } : {});
const paths: Path[] = [
  { name: 'direct', port: 9100, body: BODY, headers: json },
  { name: 'router', port: 3903, body: OURS_BODY, headers: { ...json, authorization: `Bearer ${ADMIN}` } },
  // Portkey 1.15.2 answers 500 to embeddings through a custom host: that endpoint is compared with direct calls only.
  ...(EMBEDDINGS
    ? []
    : [
        {
          name: 'portkey',
          port: 8787,
          body: BODY,
          headers: { ...json, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': 'http://127.0.0.1:9100/v1', authorization: 'Bearer sk-fake' },
        },
      ]),
];
try {
  for (const m of ['up-a', 'up-b'])
    await svc.call('PUT', `/admin/models/${m}`, {
      baseUrl: 'http://127.0.0.1:9100/v1',
      upstreamModel: 'gpt-4o-mini',
      pricing: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
    });
  await svc.call('PUT', '/admin/policies/bench', { algorithm: 'linucb', arms: ['up-a', 'up-b'] });
  for (const p of paths) await load({ ...p }); // warm-up
  console.error(
    `proxy bench (${ENDPOINT}): ${rounds} rounds x ${secs}s at ${conns} connections, then 5 s sequential per path${relay ? `; the router's Redis ${redisDelayMs} ms away` : ''}`,
  );
  const rows: Record<string, { rps: number; p50: number; p99: number; s50: number; s99: number }[]> = { direct: [], router: [], portkey: [] };
  for (let r = 0; r < rounds; r++) {
    for (const p of paths) {
      const l = await load(p);
      const s = await sequential(p);
      rows[p.name].push({ rps: l.rps, p50: l.p50, p99: l.p99, s50: s.p50, s99: s.p99 });
    }
    const [d, o, k] = [rows.direct[r], rows.router[r], rows.portkey[r]];
    if (!k) {
      console.log(
        `round ${r + 1}: direct ${d.rps.toFixed(0)} req/s | router ${o.rps.toFixed(0)} req/s (p99 ${o.p99} ms) | router/direct ${(o.rps / d.rps).toFixed(2)}x | ` +
          `added sequential p50: router ${(o.s50 - d.s50).toFixed(0)} µs | added p99: router ${(o.s99 - d.s99).toFixed(0)} µs`,
      );
      continue;
    }
    console.log(
      `round ${r + 1}: direct ${d.rps.toFixed(0)} req/s | router ${o.rps.toFixed(0)} req/s (p99 ${o.p99} ms) | portkey ${k.rps.toFixed(0)} req/s | ` +
        `router/portkey ${(o.rps / k.rps).toFixed(2)}x | added sequential p50: router ${(o.s50 - d.s50).toFixed(0)} µs, portkey ${(k.s50 - d.s50).toFixed(0)} µs | ` +
        `added p99: router ${(o.s99 - d.s99).toFixed(0)} µs, portkey ${(k.s99 - d.s99).toFixed(0)} µs`,
    );
  }
} finally {
  upstream.kill('SIGTERM');
  gateway.kill('SIGTERM');
  await svc.stop();
  await relay?.close();
}
