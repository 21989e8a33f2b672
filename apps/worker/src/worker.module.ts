import { type DynamicModule, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { QUEUE_NAME } from '@app/contracts';
import { bullConnection, InfraModule } from '@app/infra';
import { type WorkerEnv } from './config.js';
import { DeadLetterer } from './dead-letterer.js';
import { processorFor } from './events.processor.js';

@Module({})
export class WorkerModule {
  static forRoot(env: WorkerEnv): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        InfraModule.forRoot(env, { redisOffline: false }),
        BullModule.forRoot({
          connection: bullConnection(env.REDIS_URL),
          prefix: `${env.REDIS_PREFIX}:bull`,
        }),
        BullModule.registerQueue({ name: QUEUE_NAME }),
      ],
      providers: [DeadLetterer, processorFor(env)],
    };
  }
}
