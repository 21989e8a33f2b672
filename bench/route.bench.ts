import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { migrate } from '../scripts/migrate.js';

/**
 * POST /v1/route with K = 16 arms, d = 64, a ~300-byte prompt, 50 connections, against bare Fastify answering a
 * fixed JSON, both as child processes, measured one after the other in each round of the same run.
 * Usage: npm run bench:route [-- rounds seconds connections]   (needs local Redis and Postgres)
 */
const [rounds = 3, secs = 10, conns = 50] = process.argv.slice(2).map(Number);
const here = dirname(fileURLToPath(import.meta.url));
const ADMIN = 'bench-admin-key-0123456789';
const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const db = `bench_route_${process.pid}`;
const pg = postgres(adminUrl, { max: 1, onnotice: () => undefined });
await pg.unsafe(`create database ${db}`);
const dbUrl = Object.assign(new URL(adminUrl), { pathname: `/${db}` }).toString();
await migrate(dbUrl, undefined, () => undefined);

const BODY = JSON.stringify({
  policy: 'bench',
  input: 'You are a helpful assistant. Explain step by step how a hash map resolves collisions, with a short Python example, and compare open addressing with chaining. Keep it under 200 words and mention load factors and resizing.',
});

function start(file: string, env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    c.stdout!.on('data', (b: Buffer) => {
      if (/READY|api listening/.test(b.toString())) resolve(c);
    });
    c.on('exit', (code) => reject(new Error(`${file} exited ${code}`)));
  });
}
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

const env = { DATABASE_URL: dbUrl, ADMIN_API_KEY: ADMIN, REDIS_PREFIX: `bench${process.pid}`, LOG_LEVEL: 'error', HOST: '127.0.0.1' };
const api = await start(join(here, '../apps/api/main.js'), { ...env, PORT: '3902' });
const worker = await new Promise<ChildProcess>((res) => {
  const c = spawn(process.execPath, [join(here, '../apps/worker/main.js')], { env: { ...process.env, ...env }, stdio: 'ignore' });
  setTimeout(() => res(c), 1500);
});
const base = await start(join(here, 'servers/fastify.js'), { PORT: '3901' });
const h = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` };
const arms = Array.from({ length: 16 }, (_, i) => `m${i}`);
for (const m of arms) await fetch(`http://127.0.0.1:3902/admin/models/${m}`, { method: 'PUT', headers: h, body: JSON.stringify({ energy: { joulesPerOutputToken: 0.1 + 0.05 * Number(m.slice(1)) } }) });
await fetch('http://127.0.0.1:3902/admin/policies/bench', { method: 'PUT', headers: h, body: JSON.stringify({ algorithm: 'linucb', arms, objective: { quality: 1, energy: 0.3 } }) });
await load(3902, true); // warm-up
await load(3901, false);
console.error(`route bench: ${rounds} rounds x ${secs}s, ${conns} connections`);
const rows: string[] = [];
for (let r = 0; r < rounds; r++) {
  const b = await load(3901, false);
  const a = await load(3902, true);
  rows.push(`round ${r + 1}: bare Fastify ${b.rps.toFixed(0)} req/s (p99 ${b.p99} ms) | router ${a.rps.toFixed(0)} req/s (p50 ${a.p50} ms, p99 ${a.p99} ms) | ratio ${(a.rps / b.rps).toFixed(3)}`);
  console.log(rows[rows.length - 1]);
}
for (const c of [api, worker, base]) c.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 1500));
await pg.unsafe(`drop database if exists ${db} with (force)`);
await pg.end();
