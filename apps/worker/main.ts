import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadWorkerEnv } from './src/config.js';
import { exitOnStartupFailure, Logger, NestJsonLogger, startTracing } from '@app/infra';
import { WorkerModule } from './src/worker.module.js';

try {
  const env = loadWorkerEnv();
  startTracing('router-worker', env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(env), {
    logger: new NestJsonLogger(new Logger('router', env.LOG_LEVEL).child('nest')),
  });
  app.enableShutdownHooks();
  process.stdout.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), name: 'router.worker', msg: 'worker started' })}\n`);
} catch (err) {
  exitOnStartupFailure('router.worker')(err);
}
