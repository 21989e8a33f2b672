import { performance } from 'node:perf_hooks';
import { type Principal } from '@app/contracts';
import { type Logger } from '@app/infra';
import { type FastifyInstance, type FastifyRequest } from 'fastify';
import { REQUEST_ID_HEADER } from './request-id.js';

/**
 * Every response carries the request id (`x-request-id`, as Fastify's genReqId chose it), errors and streamed
 * answers included: the header is set on the raw response, which a hijacked stream's own `writeHead` keeps.
 * With `log`, one access line per request once its response is over: method, route pattern (never the URL with
 * its ids and query), status, duration, key id, request id; never prompt text or secrets.
 */
export function installRequestHooks(fastify: FastifyInstance, log: Logger | null): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    reply.raw.setHeader(REQUEST_ID_HEADER, req.id);
    if (log) {
      const t0 = performance.now();
      reply.raw.once('close', () => {
        const res = reply.raw;
        log.info('request', {
          method: req.method,
          route: req.routeOptions.url ?? '(no route)',
          status: res.statusCode,
          ms: Math.round((performance.now() - t0) * 10) / 10,
          keyId: principalOf(req)?.keyId ?? null,
          requestId: req.id,
          ...(res.writableFinished ? {} : { aborted: true }),
        });
      });
    }
    done();
  });
}

const principalOf = (req: FastifyRequest) => (req as FastifyRequest & { principal?: Principal }).principal;
