import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { type BaseEnv, REDIS } from '@app/infra';
import { Redis } from 'ioredis';
import { DecisionHotStore } from './decisions.store.js';
import { ModelEnergyStore } from './model-energy.store.js';
import { RegistryStore } from './policy-registry.store.js';
import { PolicyStateStore } from './policy-state.store.js';

const STORES = [PolicyStateStore, DecisionHotStore, RegistryStore, ModelEnergyStore] as const;

/**
 * The Redis connection of this process and the stores over it. `redisOffline`: the api answers from memory while
 * Redis is away, so its commands fail fast instead of queueing; the worker waits for Redis to come back.
 */
@Global()
@Module({})
export class StoreModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  static forRoot(env: Pick<BaseEnv, 'REDIS_URL' | 'REDIS_PREFIX'>, opts: { redisOffline: boolean }): DynamicModule {
    return {
      module: StoreModule,
      providers: [
        { provide: REDIS, useFactory: () => connect(env.REDIS_URL, opts.redisOffline) },
        ...STORES.map((S) => ({ provide: S, inject: [REDIS], useFactory: (r: Redis) => new S(r, env.REDIS_PREFIX) })),
      ],
      exports: [REDIS, ...STORES],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}

async function connect(url: string, offline: boolean): Promise<Redis> {
  const redis = new Redis(url, { enableOfflineQueue: !offline, maxRetriesPerRequest: offline ? 1 : null, enableAutoPipelining: true });
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
