import { HttpException } from '@nestjs/common';
import { type FastifyInstance } from 'fastify';

/**
 * A JSON body as it arrived, parsed only once its request is let in (parseAdmittedBody, called by the AuthGuard):
 * parsing a large body costs tens of milliseconds of the one thread, which a caller without a key must not get to
 * spend.
 */
export class UnparsedJson {
  constructor(
    readonly text: string,
    readonly parse: (done: (err: Error | null, value?: unknown) => void) => void,
  ) {}
}

/**
 * The request bodies the api reads: JSON only (`application/json`, in UTF-8 as JSON is exchanged: no charset, or
 * `utf-8` or its ASCII subset), parsed by Fastify's own parser
 * (prototype-poisoning keys refused) after authentication (UnparsedJson). An empty JSON body is no body, so
 * endpoints that need none (reset, rebuild, a DELETE) accept a client that always sends `Content-Type:
 * application/json`; endpoints that need one answer 400 naming it. Any other media type (a form, text) is a 415,
 * never parsed into something half-understood.
 */
export function installBodyParsers(fastify: FastifyInstance): void {
  const json = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return done(unsupportedEncoding(encoding));
    const charset = charsetOf(req.headers['content-type']);
    if (charset !== undefined && !UTF8_CHARSETS.has(charset)) return done(unsupportedCharset(charset));
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    done(null, new UnparsedJson(text, (parsed) => void json(req, text, (err, value) => parsed(err && isJson(text) ? forbiddenKey() : err, value))));
  });
}

/** A compressed (or otherwise encoded) body: the api reads bodies as sent, so it is refused, not read as bytes of JSON. */
export const UNSUPPORTED_ENCODING = 'UNSUPPORTED_CONTENT_ENCODING';
export const UNSUPPORTED_CHARSET = 'UNSUPPORTED_CHARSET';
/** The parser's refusals whose message says what to send instead. */
export const SAID_REFUSALS: ReadonlySet<string> = new Set([UNSUPPORTED_ENCODING, UNSUPPORTED_CHARSET]);
const unsupportedEncoding = (encoding: string) =>
  Object.assign(new Error(`Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported: send the body uncompressed`), {
    statusCode: 415,
    code: UNSUPPORTED_ENCODING,
  });

/** The charsets a JSON body may declare: UTF-8 (JSON's only encoding between systems) and ASCII, a subset of it. */
const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

/** The `charset` parameter of a Content-Type, lower-cased and unquoted; undefined when there is none. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType ?? '');
  return match ? match[2].toLowerCase() : undefined;
}

/** A body declared in another charset (UTF-16, Latin-1): refused, not read as UTF-8 bytes it is not. */
const unsupportedCharset = (charset: string) =>
  Object.assign(new Error(`Content-Type charset ${JSON.stringify(charset.slice(0, 40))} is not supported: send JSON in UTF-8`), {
    statusCode: 415,
    code: UNSUPPORTED_CHARSET,
  });

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** What the parser refused in a body that is JSON: a prototype-poisoning key, said as such (it said "not valid JSON"). */
const forbiddenKey = () =>
  Object.assign(new Error('a key named __proto__, or a constructor key holding prototype, is not accepted anywhere in the body'), { statusCode: 400 });

/**
 * Parses the body of a request that was let in, in place. A body that is not JSON (or carries a prototype-poisoning
 * key) is the 400 it was when Fastify parsed before routing: an HttpException with the parser's message, which the
 * ProblemFilter answers in the path's error shape.
 */
export async function parseAdmittedBody(req: { body?: unknown }): Promise<void> {
  const raw = req.body;
  if (!(raw instanceof UnparsedJson)) return;
  req.body = await new Promise((resolve, reject) =>
    raw.parse((err, value) => (err ? reject(new HttpException(err.message, (err as { statusCode?: number }).statusCode ?? 400)) : resolve(value))),
  );
}
