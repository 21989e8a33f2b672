import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { type BaseEnv, createRedis, QUEUE_CONNECTION, queueConnection, REDIS, type RedisClient } from '@app/infra';
import { type ConnectionOptions } from 'bullmq';
import { DecisionHotStore } from './decisions.store.js';
import { ModelEnergyStore } from './model-energy.store.js';
import { RegistryStore } from './policy-registry.store.js';
import { PolicyStateStore } from './policy-state.store.js';

const STORES = [PolicyStateStore, DecisionHotStore, RegistryStore, ModelEnergyStore] as const;

/**
 * The Redis connections of this process (one Redis or a Redis Cluster, see createRedis) and the stores over them.
 * `redisOffline`: the api answers from memory while Redis is away, so its commands fail fast instead of queueing;
 * the worker waits for Redis to come back. Also BullMQ's `connection` (QUEUE_CONNECTION), closed here on a cluster
 * (global: after every queue and worker has closed).
 */
@Global()
@Module({})
export class StoreModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(QUEUE_CONNECTION) private readonly queue: ConnectionOptions,
  ) {}

  static forRoot(env: Pick<BaseEnv, 'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'REDIS_PREFIX'>, opts: { redisOffline: boolean }): DynamicModule {
    return {
      module: StoreModule,
      providers: [
        { provide: REDIS, useFactory: () => connect(env, opts.redisOffline) },
        { provide: QUEUE_CONNECTION, useFactory: () => queueConnection(env, opts.redisOffline) },
        ...STORES.map((S) => ({ provide: S, inject: [REDIS], useFactory: (r: RedisClient) => new S(r, env.REDIS_PREFIX) })),
      ],
      exports: [REDIS, QUEUE_CONNECTION, ...STORES],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
    // Only a client made for a cluster; on one Redis BullMQ closed the connections it opened.
    const q = this.queue as Partial<RedisClient>;
    if (typeof q.quit === 'function') await q.quit().catch(() => undefined);
  }
}

async function connect(env: Pick<BaseEnv, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>, offline: boolean): Promise<RedisClient> {
  const redis = createRedis(env, { failFast: offline, autoPipelining: true });
  // Without an offline queue, commands sent before the connection is up fail: wait for it (5 s at most; a
  // process started while Redis is down comes up degraded and reconnects by itself).
  if (offline && redis.status !== 'ready')
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      redis.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    });
  return redis;
}
