import { type DynamicModule, Global, Module } from '@nestjs/common';
import { type BaseEnv } from './config.js';
import { Logger } from './logger.js';
import { CONFIG } from './tokens.js';

/**
 * What every process shares whatever it does: its parsed configuration and its logger. Connections and the
 * classes over them come from each lib's own module (PersistenceModule, StoreModule, IngestModule), imported by
 * the apps that use them.
 */
@Global()
@Module({})
export class InfraModule {
  static forRoot(env: BaseEnv): DynamicModule {
    return {
      module: InfraModule,
      providers: [
        { provide: CONFIG, useValue: env },
        { provide: Logger, useValue: new Logger('router', env.LOG_LEVEL) },
      ],
      exports: [CONFIG, Logger],
    };
  }
}
