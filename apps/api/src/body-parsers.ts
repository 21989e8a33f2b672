import { type FastifyInstance } from 'fastify';

/**
 * The request bodies the api reads: JSON only (`application/json`, any charset), parsed by Fastify's own parser
 * (prototype-poisoning keys refused). An empty JSON body is no body, so endpoints that need none (reset, rebuild,
 * a DELETE) accept a client that always sends `Content-Type: application/json`; endpoints that need one answer
 * 400 naming it. Any other media type (a form, text) is a 415, never parsed into something half-understood.
 */
export function installBodyParsers(fastify: FastifyInstance): void {
  const json = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    void json(req, text, done);
  });
}
