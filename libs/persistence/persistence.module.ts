import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { type BaseEnv, SQL } from '@app/infra';
import { DeadLettersRepository } from './dead-letters.repository.js';
import { createSql, type Sql } from './db.js';
import { DecisionsRepository } from './decisions.repository.js';
import { EventsRepository } from './events.repository.js';
import { KeysRepository } from './keys.repository.js';
import { LearnedEventsRepository } from './learned-events.repository.js';
import { ModelsRepository } from './models.repository.js';
import { PoliciesRepository } from './policies.repository.js';
import { PriorStatsRepository } from './prior-stats.repository.js';
import { TimeseriesRepository } from './timeseries.repository.js';

const REPOSITORIES = [
  KeysRepository,
  ModelsRepository,
  PoliciesRepository,
  PriorStatsRepository,
  DecisionsRepository,
  EventsRepository,
  LearnedEventsRepository,
  DeadLettersRepository,
  TimeseriesRepository,
] as const;

/** The Postgres pool of this process and one instance of each repository over it (plain classes, by factory). */
@Global()
@Module({})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@Inject(SQL) private readonly sql: Sql) {}

  static forRoot(env: Pick<BaseEnv, 'DATABASE_URL' | 'DATABASE_POOL'>): DynamicModule {
    return {
      module: PersistenceModule,
      providers: [
        { provide: SQL, useFactory: () => createSql(env.DATABASE_URL, env.DATABASE_POOL) },
        ...REPOSITORIES.map((R) => ({ provide: R, inject: [SQL], useFactory: (s: Sql) => new R(s) })),
      ],
      exports: [SQL, ...REPOSITORIES],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}
