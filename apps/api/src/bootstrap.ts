import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { startTracing } from '@app/infra';
import { ApiModule } from './api.module.js';
import { type ApiEnv } from './config.js';

/** Builds the api (used by main.ts, the e2e tests and the benchmarks). */
export async function createApi(env: ApiEnv): Promise<NestFastifyApplication> {
  startTracing('router-api', env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const adapter = new FastifyAdapter({ bodyLimit: env.BODY_LIMIT_BYTES, logger: false, return503OnClosing: true });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(env), adapter, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  return app;
}
