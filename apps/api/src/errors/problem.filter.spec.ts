import { type ArgumentsHost } from '@nestjs/common';
import { DomainError, ERROR_CODES } from '@app/errors';
import { type Logger } from '@app/infra';
import { isOpenAiPath, openAiError, openAiType, ProblemFilter, statusOf } from './problem.filter.js';

interface Sent {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/** Runs the filter on `err` for a request to `url` (request id `req-7`); returns what it sent and what it logged. */
function run(err: unknown, url: string) {
  const sent: Sent = { status: 0, headers: {}, body: undefined };
  const reply = {
    status(s: number) {
      sent.status = s;
      return reply;
    },
    header(k: string, v: string) {
      sent.headers[k] = v;
      return reply;
    },
    send(b: unknown) {
      sent.body = b;
      return reply;
    },
  };
  const req = { url, method: 'POST', id: 'req-7' };
  const host = { switchToHttp: () => ({ getRequest: () => req, getResponse: () => reply }) } as unknown as ArgumentsHost;
  const logged: Record<string, unknown>[] = [];
  const log = { error: (_msg: string, f: Record<string, unknown>) => logged.push(f) } as unknown as Logger;
  new ProblemFilter(log).catch(err, host);
  return { sent, logged };
}

describe('ProblemFilter', () => {
  it("answers OpenAI's envelope on the OpenAI-compatible paths, naming the field in param", () => {
    const err = new DomainError('VALIDATION', 'invalid body', [
      { path: 'messages', message: 'Too small' },
      { path: 'stream', message: 'expected boolean' },
    ]);
    const { sent } = run(err, '/v1/chat/completions');
    expect(sent.status).toBe(400);
    expect(sent.headers['content-type']).toMatch(/^application\/json/);
    expect(sent.body).toEqual({
      error: {
        message: 'invalid body: messages: Too small; stream: expected boolean',
        type: 'invalid_request_error',
        param: 'messages',
        code: 'invalid_value',
      },
    });
  });

  it('keeps problem+json on our own paths', () => {
    const { sent } = run(new DomainError('POLICY_NOT_FOUND', 'policy x does not exist', [{ path: 'policy', message: 'unknown policy' }]), '/v1/route');
    expect(sent.headers['content-type']).toBe('application/problem+json');
    expect(sent.body).toEqual({
      type: 'urn:router:problem:policy-not-found',
      title: 'Not Found',
      status: 404,
      detail: 'policy x does not exist',
      errors: [{ path: 'policy', message: 'unknown policy' }],
    });
  });

  it('quotes the request id as correlation id of an unexpected error, in either shape, and logs it', () => {
    const ours = run(new Error('boom at /secret/path'), '/admin/models/x');
    expect(ours.sent.status).toBe(500);
    expect(ours.sent.body).toMatchObject({ status: 500, correlationId: 'req-7', detail: 'internal error; quote correlation id req-7' });
    expect(ours.logged[0]).toMatchObject({ correlationId: 'req-7', error: 'boom at /secret/path' });
    const openai = run(new Error('boom'), '/v1/models');
    expect(openai.sent.status).toBe(500);
    expect(openai.sent.body).toEqual({
      error: { message: 'internal error; quote correlation id req-7', type: 'api_error', param: null, code: 'internal_error' },
    });
    expect(JSON.stringify([ours.sent.body, openai.sent.body])).not.toContain('boom');
  });

  it('sends Retry-After with a 429 rate_limit_error, and lists the failed attempts of a 502 without a param', () => {
    const limited = run(new DomainError('RATE_LIMITED', 'too many key lookups', [], 3), '/v1/models');
    expect(limited.sent.status).toBe(429);
    expect(limited.sent.headers['retry-after']).toBe('3');
    expect(limited.sent.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null });
    const failed = run(
      new DomainError('UPSTREAM_FAILED', 'every candidate failed for decision dec_1', [
        { path: 'attempts.0', message: 'small: upstream answered 500 (500)' },
        { path: 'attempts.1', message: 'large: upstream timed out' },
      ]),
      '/v1/chat/completions',
    );
    expect(failed.sent.status).toBe(502);
    expect(failed.sent.body.error).toEqual({
      message: 'every candidate failed for decision dec_1: small: upstream answered 500 (500); large: upstream timed out',
      type: 'api_error',
      param: null,
      code: 'upstream_failed',
    });
  });

  it('maps what Fastify refuses before the controller (bad JSON, size, media type) on either shape', () => {
    const badJson = Object.assign(new Error('Body is not valid JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' });
    expect(run(badJson, '/v1/chat/completions').sent.body).toEqual({
      error: { message: 'the body is not valid JSON', type: 'invalid_request_error', param: null, code: 'invalid_request_body' },
    });
    expect(run(badJson, '/v1/route').sent.body).toMatchObject({ status: 400, errors: [{ path: '(body)' }] });
    const tooLarge = Object.assign(new Error('too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(run(tooLarge, '/v1/chat/completions').sent).toMatchObject({ status: 413, body: { error: { code: 'request_too_large' } } });
    const media = Object.assign(new Error('unsupported'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
    expect(run(media, '/v1/chat/completions').sent).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
  });

  it('gives every domain error code an OpenAI type that matches its status, and a code', () => {
    for (const code of ERROR_CODES) {
      const status = statusOf(code);
      const { error } = openAiError({ status, code, detail: 'x' });
      expect(error.code).toEqual(expect.any(String));
      expect(error.type).toBe(openAiType(status));
    }
    expect([401, 403, 404, 429, 400, 413, 502, 503].map(openAiType)).toEqual([
      'authentication_error',
      'permission_error',
      'not_found_error',
      'rate_limit_error',
      'invalid_request_error',
      'invalid_request_error',
      'api_error',
      'api_error',
    ]);
  });

  it('knows the OpenAI-compatible paths', () => {
    const below = ['/v1/chat/completions/', '/v1/embeddings/', '/v1/chat/other', '/v1/models/'];
    // Reached otherwise: an absolute-form target, a fragment, a percent-encoded letter.
    const otherwise = ['http://evil.example/v1/chat/completions', 'https://h:1/v1/models?x', '/v1/models#x', '/v1/%6dodels', '/v1/%ZZ/chat'];
    for (const p of [
      '/v1/chat/completions',
      '/v1/chat/completions?x=1',
      '/v1/embeddings',
      '/v1/models',
      '/v1/models/router%2Fdefault',
      // OpenAI's paths the router does not offer: their 404 in OpenAI's envelope, which its SDK shows.
      '/v1/completions',
      '/v1/responses',
      '/v1/audio/speech',
      ...below,
      ...otherwise.slice(0, 4),
    ])
      expect([p, isOpenAiPath(p)]).toEqual([p, true]);
    for (const p of [
      '/v1/route',
      '/v1/route/',
      '/v1/feedback',
      '/admin/models',
      '/v1/modelsx',
      '/v1/embeddingsx',
      '/v1/chatx',
      '/v1/completionsx',
      '/health/live',
      'http://h/v1/route',
      otherwise[4],
    ])
      expect([p, isOpenAiPath(p)]).toEqual([p, false]);
  });
});
