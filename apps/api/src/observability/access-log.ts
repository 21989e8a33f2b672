import { performance } from 'node:perf_hooks';
import { type Principal } from '@app/contracts';
import { enterRequest, type Logger } from '@app/infra';
import { type FastifyInstance, type FastifyRequest } from 'fastify';
import { type Histogram } from 'prom-client';
import { REQUEST_ID_HEADER } from './request-id.js';

export interface RequestObservers {
  /** One access line per request, or null when the access log is off. */
  log: Logger | null;
  /** Request duration by method, route pattern and status. */
  seconds: Histogram<'method' | 'route' | 'status'>;
}

/**
 * Every response carries the request id (`x-request-id`, as Fastify's genReqId chose it), errors and streamed
 * answers included: the header is set on the raw response, which a hijacked stream's own `writeHead` keeps.
 * The request is served inside its request context, so every log line written meanwhile names its id (Node
 * resumes a body read in the request's own async context, so the handler still sees it; tested with a body
 * that arrives in pieces).
 * Once its response is over, each request is counted in the duration histogram and, with a log, gets one access
 * line: method, route pattern (never the URL with its ids and query), status, duration, key id, request id; never
 * prompt text or secrets.
 */
export function installRequestHooks(fastify: FastifyInstance, observers: RequestObservers): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    reply.raw.setHeader(REQUEST_ID_HEADER, req.id);
    const t0 = performance.now();
    reply.raw.once('close', () => observe(observers, req, performance.now() - t0, reply.raw.statusCode, reply.raw.writableFinished));
    enterRequest(req.id, done);
  });
}

function observe(observers: RequestObservers, req: FastifyRequest, ms: number, status: number, finished: boolean): void {
  const route = req.routeOptions.url ?? '(no route)';
  observers.seconds.observe({ method: req.method, route, status: String(status) }, ms / 1000);
  observers.log?.info('request', {
    method: req.method,
    route,
    status,
    ms: Math.round(ms * 10) / 10,
    keyId: principalOf(req)?.keyId ?? null,
    requestId: req.id,
    ...(finished ? {} : { aborted: true }),
  });
}

const principalOf = (req: FastifyRequest) => (req as FastifyRequest & { principal?: Principal }).principal;
