import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cpuSeconds } from './support/process-cpu.js';
import { startBuiltService } from './support/service.js';

/**
 * POST /v1/route with K = 16 arms, d = 64, a ~300-byte prompt, 50 connections, against bare Fastify answering a
 * fixed JSON; both servers are child processes (the router with its worker running), measured one after the
 * other in each round of the same run. The router is called with a route key without limits and with one whose
 * limits (requests and tokens per minute, USD per day, calls in flight; high enough never to refuse) are checked in
 * Redis on every request (and each call's lease released after it), and a second router with its access log off (ACCESS_LOG=false) is called with the key without
 * limits: the same-run ratios are the cost of limits and of the access log (both routers at LOG_LEVEL=info, the
 * default; the request id and its log context cannot be turned off: every variant has them). Beside each router's
 * rate: the CPU its api and its worker used per request (from /proc), a figure that moves less with the machine's
 * load than the rates do.
 * Usage: npm run bench:route [-- rounds seconds connections]   (needs local Redis and Postgres)
 */
const [rounds = 3, secs = 10, conns = 50] = process.argv.slice(2).map(Number);
const here = dirname(fileURLToPath(import.meta.url));
const BODY = JSON.stringify({
  policy: 'bench',
  input:
    'You are a helpful assistant. Explain step by step how a hash map resolves collisions, with a short Python example, and compare open addressing with chaining. Keep it under 200 words and mention load factors and resizing.',
});

async function load(port: number, key: string | null, pids?: { api: number; worker: number }) {
  const cpu0 = pids && { api: cpuSeconds(pids.api), worker: cpuSeconds(pids.worker) };
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/v1/route`,
    method: 'POST',
    connections: conns,
    duration: secs,
    body: BODY,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
  });
  if (r.non2xx > 0) throw new Error(`${r.non2xx} non-2xx answers on port ${port}`);
  const perRequest = (pid: number, before: number) => ((cpuSeconds(pid) - before) * 1e6) / Math.max(1, r.requests.total);
  const cpu = pids && cpu0 ? `api ${perRequest(pids.api, cpu0.api).toFixed(0)} + worker ${perRequest(pids.worker, cpu0.worker).toFixed(0)} µs CPU/req` : '';
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpu };
}

// As deployed by default: info level, one access line per request (read and dropped by this process).
const svc = await startBuiltService(3902, { LOG_LEVEL: 'info' });
const quiet = await startBuiltService(3904, { LOG_LEVEL: 'info', ACCESS_LOG: 'false' });
const base: ChildProcess = await new Promise((resolve, reject) => {
  const c = spawn(process.execPath, [join(here, 'servers/fastify.js')], { env: { ...process.env, PORT: '3901' }, stdio: ['ignore', 'pipe', 'inherit'] });
  c.stdout.on('data', (b: Buffer) => /READY/.test(b.toString()) && resolve(c));
  c.on('exit', (code) => reject(new Error(`baseline exited ${code}`)));
});
try {
  const arms = Array.from({ length: 16 }, (_, i) => `m${i}`);
  const keys: Record<string, string>[] = [];
  for (const s of [svc, quiet]) {
    for (const m of arms) await s.call('PUT', `/admin/models/${m}`, { energy: { joulesPerOutputToken: 0.1 + 0.05 * Number(m.slice(1)) } });
    await s.call('PUT', '/admin/policies/bench', { algorithm: 'linucb', arms, objective: { quality: 1, energy: 0.3 } });
    const plain = (await s.call('POST', '/admin/keys', { name: 'plain', scope: 'route' })).secret as string;
    const limits = { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000, usdPerDay: 1_000_000_000, concurrentRequests: 1_000_000 };
    const limited = (await s.call('POST', '/admin/keys', { name: 'limited', scope: 'route', limits })).secret as string;
    keys.push({ plain, limited });
  }
  await load(3902, keys[0].plain); // warm-up (JIT, connections)
  await load(3902, keys[0].limited);
  await load(3904, keys[1].plain);
  await load(3901, null);
  console.error(`route bench: ${rounds} rounds x ${secs}s, ${conns} connections`);
  for (let r = 0; r < rounds; r++) {
    const b = await load(3901, null);
    const a = await load(3902, keys[0].plain, svc.pids);
    const l = await load(3902, keys[0].limited, svc.pids);
    const q = await load(3904, keys[1].plain, quiet.pids);
    console.log(
      `round ${r + 1}: bare Fastify ${b.rps.toFixed(0)} req/s (p99 ${b.p99} ms) | router ${a.rps.toFixed(0)} req/s (p50 ${a.p50} ms, p99 ${a.p99} ms; ${a.cpu}) | ratio ${(a.rps / b.rps).toFixed(3)}` +
        ` | with limits ${l.rps.toFixed(0)} req/s (p50 ${l.p50} ms, p99 ${l.p99} ms; ${l.cpu}), ${(l.rps / a.rps).toFixed(3)}x without` +
        ` | access log off ${q.rps.toFixed(0)} req/s (p50 ${q.p50} ms, p99 ${q.p99} ms; ${q.cpu}), ${(a.rps / q.rps).toFixed(3)}x with it on`,
    );
  }
} finally {
  base.kill('SIGTERM');
  await svc.stop();
  await quiet.stop();
}
