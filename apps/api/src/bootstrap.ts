import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type FastifyReply } from 'fastify';
import { startTracing } from '@app/infra';
import { ApiModule } from './api.module.js';
import { type ApiEnv } from './config.js';
import { problem } from './errors/problem.filter.js';

/** Builds the api (used by main.ts, the e2e tests and the benchmarks). */
export async function createApi(env: ApiEnv): Promise<NestFastifyApplication> {
  startTracing('router-api', env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const adapter = new FastifyAdapter({
    bodyLimit: env.BODY_LIMIT_BYTES,
    logger: false,
    return503OnClosing: true,
    // Errors Fastify raises before routing (e.g. a malformed percent-escape in the URL) get a problem too.
    frameworkErrors: (err: Error, _req: unknown, reply: FastifyReply) => {
      void reply
        .status(400)
        .header('content-type', 'application/problem+json')
        .send(problem(400, err.message, 'VALIDATION', [{ path: '(url)', message: 'malformed URL' }]));
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(env), adapter, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  return app;
}
