import { type JobIdPrefix, QUEUE_NAME } from '@app/contracts';
import { type ConnectionOptions } from 'bullmq';
import { type BaseEnv } from './config.js';
import { createRedis, type RedisTarget } from './redis.js';

export { QUEUE_NAME };

/**
 * A custom job id: the job's prefix (JOB_KINDS) and an id it is derived from. BullMQ custom job ids may not
 * contain ':'; event ids may. base64url keeps them unique and reversible.
 */
export const jobIdFor = (prefix: JobIdPrefix, id: string) => `${prefix}_${Buffer.from(id).toString('base64url')}`;

/**
 * BullMQ's key prefix. Its Lua scripts touch several keys of a queue at once, so on a cluster they must share a
 * slot: the hash tag `{bull}` puts every key of the queue in one (and keeps them under REDIS_PREFIX). One Redis
 * keeps the untagged prefix it always had, so jobs queued before an upgrade are still found.
 */
export const queuePrefix = (env: Pick<BaseEnv, 'REDIS_PREFIX' | 'REDIS_CLUSTER_NODES'>) =>
  env.REDIS_CLUSTER_NODES ? `${env.REDIS_PREFIX}:{bull}` : `${env.REDIS_PREFIX}:bull`;

/**
 * BullMQ's `connection`. On one Redis: options, and BullMQ opens and closes its own connections, as it always did.
 * On a cluster BullMQ can only use a client it is given: a Cluster from createRedis (closed by StoreModule,
 * which provides it), which workers duplicate for their blocking reads. A producer fails fast (the api answers
 * 503 + Retry-After); a worker waits for Redis to come back.
 */
export function queueConnection(env: RedisTarget, producer: boolean): ConnectionOptions {
  return env.REDIS_CLUSTER_NODES ? createRedis(env, { failFast: producer }) : bullConnection(env.REDIS_URL, producer);
}

/** Connection options BullMQ needs (workers block: no per-request retry limit). */
export function bullConnection(redisUrl: string, producer = false) {
  const u = new URL(redisUrl);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    // A producer must fail fast (the api answers 503 + Retry-After); a worker waits for Redis to come back.
    maxRetriesPerRequest: producer ? 1 : null,
    enableOfflineQueue: !producer,
  };
}

/** Options of every job the api enqueues: retried for hours (see the worker's backoff), then kept a week. */
export const JOB_OPTIONS = {
  attempts: 1000,
  backoff: { type: 'custom' },
  removeOnComplete: { age: 3600, count: 50_000 },
  removeOnFail: { age: 7 * 86400 },
} as const;
