import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { deleteKeysWithPrefix } from '@app/store';
import { migrate } from '../../scripts/migrate.js';

export const ADMIN = 'bench-admin-key-0123456789';
const here = dirname(fileURLToPath(import.meta.url));
const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Starts the built api and worker as child processes on a fresh database and Redis prefix. */
export async function startBuiltService(port: number, extraEnv: Record<string, string> = {}) {
  const db = `bench_${process.pid}_${port}`;
  const pg = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  await pg.unsafe(`create database ${db}`);
  const dbUrl = Object.assign(new URL(adminUrl), { pathname: `/${db}` }).toString();
  await migrate(dbUrl, undefined, () => undefined);
  const env = {
    ...process.env,
    DATABASE_URL: dbUrl,
    ADMIN_API_KEY: ADMIN,
    REDIS_PREFIX: `bench${process.pid}x${port}`,
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
    PORT: String(port),
    ...extraEnv,
  };
  const children: ChildProcess[] = [];
  // BENCH_API_ARGS / BENCH_WORKER_ARGS pass node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" or
  // "--max-semi-space-size=64" (docs/deployment.md, Node flags).
  const apiArgs = (process.env.BENCH_API_ARGS ?? '').split(' ').filter(Boolean);
  const api = spawn(process.execPath, [...apiArgs, join(here, '../../apps/api/main.js')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(api);
  await new Promise<void>((resolve, reject) => {
    api.stdout.on('data', (b: Buffer) => /api listening/.test(b.toString()) && resolve());
    api.on('exit', (c) => reject(new Error(`api exited ${c}`)));
  });
  const workerArgs = (process.env.BENCH_WORKER_ARGS ?? '').split(' ').filter(Boolean);
  children.push(spawn(process.execPath, [...workerArgs, join(here, '../../apps/worker/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
  const base = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    base,
    call,
    /** Process ids of the api and the worker (for memory sampling). */
    pids: { api: api.pid!, worker: children[1].pid! },
    async stop() {
      for (const c of children) c.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 1500));
      await pg.unsafe(`drop database if exists ${db} with (force)`);
      const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
      await deleteKeysWithPrefix(redis, env.REDIS_PREFIX);
      await redis.quit();
      await pg.end();
    },
  };
}
