import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { type INestApplicationContext } from '@nestjs/common';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import postgres from 'postgres';
import { createRedis, parseClusterNodes, type RedisClient, type RedisTarget, setVariables } from '@app/infra';
import { deleteKeysWithPrefix } from '@app/store';
import { migrate } from '../../scripts/migrate.js';
import { createApi } from '../../apps/api/src/bootstrap.js';
import { apiEnvSchema } from '../../apps/api/src/config.js';
import { workerEnvSchema } from '../../apps/worker/src/config.js';
import { WorkerModule } from '../../apps/worker/src/worker.module.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';
const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Where the tests' Redis is: the shared one (REDIS_URL), or a cluster given as REDIS_CLUSTER_NODES would be. */
export function redisTarget(clusterNodes?: string): RedisTarget {
  const cluster = parseClusterNodes(clusterNodes);
  if (typeof cluster === 'string') throw new Error(`cluster nodes ${clusterNodes}: ${cluster}`);
  return { REDIS_URL, REDIS_CLUSTER_NODES: cluster };
}

/** A connection of the test's own, made as the service makes its own (createRedis). */
export const connectRedis = (clusterNodes?: string): RedisClient => createRedis(redisTarget(clusterNodes));

/** Deletes every Redis key of a test's prefix (state, hot decisions, BullMQ queue). */
export async function deleteRedisPrefix(prefix: string, clusterNodes?: string): Promise<void> {
  const r = connectRedis(clusterNodes);
  try {
    await deleteKeysWithPrefix(r, prefix);
  } finally {
    await r.quit();
  }
}

/** A fresh database (migrated) and a unique Redis key prefix for one test file. */
export async function freshEnvironment(tag: string) {
  const suffix = `${tag}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const dbName = `t_${suffix}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${dbName}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  await migrate(databaseUrl, undefined, () => undefined);
  return {
    databaseUrl,
    prefix: `t${suffix}`,
    async drop() {
      await deleteRedisPrefix(`t${suffix}`);
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists ${dbName} with (force)`);
      await a.end();
    },
  };
}

export interface Running {
  api: NestFastifyApplication;
  workers: INestApplicationContext[];
  url: string;
  close(): Promise<void>;
}

/**
 * Boots the real api (listening on an ephemeral port) and `workers` worker contexts in this process, on the shared
 * Redis, or on a Redis Cluster when `env.redisClusterNodes` names one (startPrivateRedisCluster's `nodes`).
 */
export async function startService(
  env: { databaseUrl: string; prefix: string; redisClusterNodes?: string },
  workers = 1,
  extra: Record<string, string> = {},
): Promise<Running> {
  const raw = {
    DATABASE_URL: env.databaseUrl,
    REDIS_URL,
    ...(env.redisClusterNodes ? { REDIS_CLUSTER_NODES: env.redisClusterNodes } : {}),
    REDIS_PREFIX: env.prefix,
    ADMIN_API_KEY: ADMIN_KEY,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    REFRESH_INTERVAL_MS: '100',
    ...extra,
  };
  const api = await createApi(apiEnvSchema.parse(setVariables(raw)));
  await api.listen(0, '127.0.0.1');
  const addr = api.getHttpServer().address() as { port: number };
  const ws: INestApplicationContext[] = [];
  for (let i = 0; i < workers; i++)
    ws.push(await NestFactory.createApplicationContext(WorkerModule.forRoot(workerEnvSchema.parse(setVariables(raw))), { logger: ['error'] }));
  return {
    api,
    workers: ws,
    url: `http://127.0.0.1:${addr.port}`,
    async close() {
      for (const w of ws) await w.close();
      await api.close();
    },
  };
}

/** Small JSON client for the tests. */
export function client(base: string, key = ADMIN_KEY) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  };
  return {
    key,
    call,
    get: (p: string) => call('GET', p),
    post: (p: string, b?: unknown, h?: Record<string, string>) => call('POST', p, b, h),
    put: (p: string, b?: unknown) => call('PUT', p, b),
    patch: (p: string, b?: unknown) => call('PATCH', p, b),
    del: (p: string) => call('DELETE', p),
  };
}

/** Polls until `fn` returns true (or fails after `ms`). */
export async function eventually(fn: () => Promise<boolean>, ms = 15_000, step = 50): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, step));
  }
}

/**
 * Reads `read` until two reads `pauseMs` apart agree on every key in `keys` (work still in flight from earlier
 * steps has landed), and returns the last read.
 */
export async function settled<T extends Record<string, unknown>>(read: () => Promise<T>, keys: readonly (keyof T)[], pauseMs = 400): Promise<T> {
  for (;;) {
    const a = await read();
    await new Promise((r) => setTimeout(r, pauseMs));
    const b = await read();
    if (keys.every((k) => a[k] === b[k])) return b;
  }
}
