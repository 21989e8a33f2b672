import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DeadLettersRepository, DecisionsRepository, EventsRepository, KeysRepository, LearnedEventsRepository, ModelsRepository, PoliciesRepository, createSql, type Sql } from '@app/persistence';
import { DecisionHotStore, ModelEnergyStore, PolicyStateStore, RegistryStore } from '@app/store';
import { DefaultRewardSweeper, EventApplier, ModelEnergyEstimator, Rebuilder } from '@app/ingest';
import { Redis } from 'ioredis';
import { type BaseEnv } from './config.js';
import { Logger } from './logger.js';
import { CONFIG, REDIS, SQL } from './tokens.js';

/**
 * Connections, repositories and stores, shared by the api and the worker (they differ only in their root
 * module). Plain classes from libs are provided by factories; no interface tokens for single implementations.
 */
@Global()
@Module({})
export class InfraModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SQL) private readonly sql: Sql,
  ) {}

  static forRoot(env: BaseEnv, opts: { redisOffline: boolean }): DynamicModule {
    return {
      module: InfraModule,
      providers: [
        { provide: CONFIG, useValue: env },
        {
          provide: REDIS,
          useFactory: async () => {
            const redis = new Redis(env.REDIS_URL, {
              // The api answers from memory while Redis is away: fail fast instead of queueing commands.
              enableOfflineQueue: !opts.redisOffline,
              maxRetriesPerRequest: opts.redisOffline ? 1 : null,
              enableAutoPipelining: true,
            });
            // Without an offline queue, commands sent before the connection is up fail: wait for it (5 s at
            // most; a process started while Redis is down comes up degraded and reconnects by itself).
            if (opts.redisOffline && redis.status !== 'ready')
              await new Promise<void>((resolve) => {
                const t = setTimeout(resolve, 5000);
                redis.once('ready', () => {
                  clearTimeout(t);
                  resolve();
                });
              });
            return redis;
          },
        },
        { provide: SQL, useFactory: () => createSql(env.DATABASE_URL, env.DATABASE_POOL) },
        { provide: Logger, useValue: new Logger('router', env.LOG_LEVEL) },
        { provide: KeysRepository, inject: [SQL], useFactory: (s: Sql) => new KeysRepository(s) },
        { provide: ModelsRepository, inject: [SQL], useFactory: (s: Sql) => new ModelsRepository(s) },
        { provide: PoliciesRepository, inject: [SQL], useFactory: (s: Sql) => new PoliciesRepository(s) },
        { provide: DecisionsRepository, inject: [SQL], useFactory: (s: Sql) => new DecisionsRepository(s) },
        { provide: EventsRepository, inject: [SQL], useFactory: (s: Sql) => new EventsRepository(s) },
        { provide: DeadLettersRepository, inject: [SQL], useFactory: (s: Sql) => new DeadLettersRepository(s) },
        { provide: LearnedEventsRepository, inject: [SQL], useFactory: (s: Sql) => new LearnedEventsRepository(s) },
        { provide: PolicyStateStore, inject: [REDIS], useFactory: (r: Redis) => new PolicyStateStore(r, env.REDIS_PREFIX) },
        { provide: DecisionHotStore, inject: [REDIS], useFactory: (r: Redis) => new DecisionHotStore(r, env.REDIS_PREFIX) },
        { provide: RegistryStore, inject: [REDIS], useFactory: (r: Redis) => new RegistryStore(r, env.REDIS_PREFIX) },
        { provide: ModelEnergyStore, inject: [REDIS], useFactory: (r: Redis) => new ModelEnergyStore(r, env.REDIS_PREFIX) },
        {
          provide: ModelEnergyEstimator,
          inject: [EventsRepository, ModelEnergyStore],
          useFactory: (e: EventsRepository, m: ModelEnergyStore) => new ModelEnergyEstimator(e, m),
        },
        {
          provide: Rebuilder,
          inject: [PoliciesRepository, DecisionsRepository, EventsRepository, PolicyStateStore],
          useFactory: (p: PoliciesRepository, d: DecisionsRepository, e: EventsRepository, s: PolicyStateStore) => new Rebuilder(p, d, e, s),
        },
        {
          provide: DefaultRewardSweeper,
          inject: [PoliciesRepository, DecisionsRepository],
          useFactory: (p: PoliciesRepository, d: DecisionsRepository) => new DefaultRewardSweeper(p, d),
        },
        {
          provide: EventApplier,
          inject: [PoliciesRepository, DecisionsRepository, EventsRepository, DecisionHotStore, PolicyStateStore, Rebuilder, ModelEnergyEstimator],
          useFactory: (p: PoliciesRepository, d: DecisionsRepository, e: EventsRepository, h: DecisionHotStore, s: PolicyStateStore, r: Rebuilder, m: ModelEnergyEstimator) =>
            new EventApplier(p, d, e, h, s, r, m),
        },
      ],
      exports: [
        CONFIG, REDIS, SQL, Logger, KeysRepository, ModelsRepository, PoliciesRepository, DecisionsRepository, EventsRepository, LearnedEventsRepository, DeadLettersRepository,
        PolicyStateStore, DecisionHotStore, RegistryStore, ModelEnergyStore, ModelEnergyEstimator, Rebuilder, EventApplier, DefaultRewardSweeper,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.redis.quit(), this.sql.end({ timeout: 5 })]);
  }
}
