import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { installBodyParsers } from './body-parsers.js';
import { type IncomingMessage } from 'node:http';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { Logger, NestJsonLogger, startTracing } from '@app/infra';
import { ApiModule } from './api.module.js';
import { installDashboardRoutes } from './dashboard/dashboard.controller.js';
import { type ApiEnv } from './config.js';
import { sendError } from './errors/problem.filter.js';
import { answerClientError, answerUnmetExpectation } from './errors/client-error.js';
import { installRequestHooks } from './observability/access-log.js';
import { MetricsService } from './observability/metrics.service.js';
import { REQUEST_ID_HEADER, requestIdOf } from './observability/request-id.js';

/** Keep-alive between requests: longer than the 60 s idle timeout of common load balancers, so they close first. */
const KEEP_ALIVE_MS = 72_000;

/**
 * Time limits on client sockets. A request must arrive whole (headers and body) within REQUEST_TIMEOUT_MS, or it
 * gets 408 and the connection is closed; Node checks every `connectionsCheckingInterval`, so that interval is
 * kept at a quarter of the limit (at most 1 s) for the limit to hold within that. A socket silent for longer than
 * the slowest answer (a proxied upstream call) plus a margin is closed too; keep-alive sockets close after
 * KEEP_ALIVE_MS idle.
 */
function socketLimits(env: ApiEnv) {
  const requestTimeout = env.REQUEST_TIMEOUT_MS;
  return {
    requestTimeout,
    connectionTimeout: Math.max(env.PROXY_TIMEOUT_MS, requestTimeout, KEEP_ALIVE_MS) + 10_000,
    keepAliveTimeout: KEEP_ALIVE_MS,
    http: {
      headersTimeout: Math.min(60_000, requestTimeout),
      requestTimeout,
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(requestTimeout / 4))),
    },
  };
}

/** At most `max` client connections open at once (0: no cap); one beyond is closed on arrival, and counted. */
function capConnections(app: NestFastifyApplication, max: number): void {
  if (max === 0) return;
  const server = app.getHttpServer();
  const dropped = app.get(MetricsService).connectionsDropped;
  server.maxConnections = max;
  server.on('drop', () => dropped.inc());
}

/** Builds the api (used by main.ts, the e2e tests and the benchmarks). */
export async function createApi(env: ApiEnv): Promise<NestFastifyApplication> {
  startTracing('router-api', env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const adapter = new FastifyAdapter({
    bodyLimit: env.BODY_LIMIT_BYTES,
    // Path ids are validated after routing, so that one too long is a 400 naming its parameter: a stored event id
    // is up to 300 characters, URL-encoded up to three times that.
    routerOptions: { maxParamLength: 1024 },
    ...socketLimits(env),
    logger: false,
    return503OnClosing: true,
    // The caller's x-request-id when it is safe to echo, log and forward; a fresh one otherwise.
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => requestIdOf(req.headers[REQUEST_ID_HEADER]),
    // Requests Node's HTTP parser refuses (headers too large, malformed, too slow) get the path's error shape too.
    clientErrorHandler: answerClientError,
    // Errors Fastify raises before routing (e.g. a malformed percent-escape in the URL) get the path's error shape too.
    frameworkErrors: (err: Error, req: FastifyRequest, reply: FastifyReply) => {
      reply.raw.setHeader(REQUEST_ID_HEADER, req.id);
      sendError(reply, req.url, { status: 400, code: 'VALIDATION', detail: err.message, errors: [{ path: '(url)', message: 'malformed URL' }] });
    },
  });
  // Nest's own parsers (JSON and url-encoded forms) are replaced by installBodyParsers: JSON only.
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(env), adapter, {
    logger: new NestJsonLogger(new Logger('router', env.LOG_LEVEL).child('nest')),
    bodyParser: false,
  });
  installBodyParsers(app.getHttpAdapter().getInstance());
  installRequestHooks(app.getHttpAdapter().getInstance(), {
    log: env.ACCESS_LOG ? app.get(Logger).child('access') : null,
    seconds: app.get(MetricsService).httpSeconds,
  });
  installDashboardRoutes(app.getHttpAdapter().getInstance());
  app.getHttpServer().on('checkExpectation', answerUnmetExpectation);
  capConnections(app, env.MAX_CONNECTIONS);
  app.enableShutdownHooks();
  return app;
}
