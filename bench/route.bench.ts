import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ADMIN, startBuiltService } from './support/service.js';

/**
 * POST /v1/route with K = 16 arms, d = 64, a ~300-byte prompt, 50 connections, against bare Fastify answering a
 * fixed JSON; both servers are child processes (the router with its worker running), measured one after the
 * other in each round of the same run.
 * Usage: npm run bench:route [-- rounds seconds connections]   (needs local Redis and Postgres)
 */
const [rounds = 3, secs = 10, conns = 50] = process.argv.slice(2).map(Number);
const here = dirname(fileURLToPath(import.meta.url));
const BODY = JSON.stringify({
  policy: 'bench',
  input:
    'You are a helpful assistant. Explain step by step how a hash map resolves collisions, with a short Python example, and compare open addressing with chaining. Keep it under 200 words and mention load factors and resizing.',
});

async function load(port: number, auth: boolean) {
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/v1/route`,
    method: 'POST',
    connections: conns,
    duration: secs,
    body: BODY,
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${ADMIN}` } : {}) },
  });
  if (r.non2xx > 0) throw new Error(`${r.non2xx} non-2xx answers on port ${port}`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

const svc = await startBuiltService(3902);
const base: ChildProcess = await new Promise((resolve, reject) => {
  const c = spawn(process.execPath, [join(here, 'servers/fastify.js')], { env: { ...process.env, PORT: '3901' }, stdio: ['ignore', 'pipe', 'inherit'] });
  c.stdout.on('data', (b: Buffer) => /READY/.test(b.toString()) && resolve(c));
  c.on('exit', (code) => reject(new Error(`baseline exited ${code}`)));
});
try {
  const arms = Array.from({ length: 16 }, (_, i) => `m${i}`);
  for (const m of arms) await svc.call('PUT', `/admin/models/${m}`, { energy: { joulesPerOutputToken: 0.1 + 0.05 * Number(m.slice(1)) } });
  await svc.call('PUT', '/admin/policies/bench', { algorithm: 'linucb', arms, objective: { quality: 1, energy: 0.3 } });
  await load(3902, true); // warm-up (JIT, connections)
  await load(3901, false);
  console.error(`route bench: ${rounds} rounds x ${secs}s, ${conns} connections`);
  for (let r = 0; r < rounds; r++) {
    const b = await load(3901, false);
    const a = await load(3902, true);
    console.log(
      `round ${r + 1}: bare Fastify ${b.rps.toFixed(0)} req/s (p99 ${b.p99} ms) | router ${a.rps.toFixed(0)} req/s (p50 ${a.p50} ms, p99 ${a.p99} ms) | ratio ${(a.rps / b.rps).toFixed(3)}`,
    );
  }
} finally {
  base.kill('SIGTERM');
  await svc.stop();
}
