import { type DynamicModule, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { QUEUE_NAME } from '@app/contracts';
import { InfraModule, QUEUE_CONNECTION, queuePrefix } from '@app/infra';
import { type ConnectionOptions } from 'bullmq';
import { DefaultRewardSweeper, EventApplier, IngestModule, ModelEnergyEstimator, Rebuilder } from '@app/ingest';
import { DecisionsRepository, EventsRepository, PersistenceModule, PoliciesRepository } from '@app/persistence';
import { DecisionHotStore, PolicyStateStore, StoreModule } from '@app/store';
import { type WorkerEnv } from './config.js';
import { DeadLetterer } from './dead-letterer.js';
import { processorFor } from './events.processor.js';
import { WorkerHttp } from './observability/worker-http.js';
import { WorkerMetrics } from './observability/worker-metrics.js';

/** The worker: folds queued events into the policy state (Redis) and the durable log (Postgres). */
@Module({})
export class WorkerModule {
  static forRoot(env: WorkerEnv): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        InfraModule.forRoot(env),
        PersistenceModule.forRoot(env),
        StoreModule.forRoot(env, { redisOffline: false }),
        IngestModule,
        BullModule.forRootAsync({
          inject: [QUEUE_CONNECTION],
          useFactory: (connection: ConnectionOptions) => ({ connection, prefix: queuePrefix(env) }),
        }),
        BullModule.registerQueue({ name: QUEUE_NAME }),
      ],
      providers: [
        {
          provide: EventApplier,
          inject: [PoliciesRepository, DecisionsRepository, EventsRepository, DecisionHotStore, PolicyStateStore, Rebuilder, ModelEnergyEstimator],
          useFactory: (...deps: ConstructorParameters<typeof EventApplier>) => new EventApplier(...deps),
        },
        {
          provide: DefaultRewardSweeper,
          inject: [PoliciesRepository, DecisionsRepository],
          useFactory: (...deps: ConstructorParameters<typeof DefaultRewardSweeper>) => new DefaultRewardSweeper(...deps),
        },
        DeadLetterer,
        WorkerMetrics,
        WorkerHttp,
        processorFor(env),
      ],
    };
  }
}
