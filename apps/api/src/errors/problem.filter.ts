import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { DomainError, type ErrorCode, type FieldError } from '@app/errors';
import { isDependencyDown, Logger } from '@app/infra';
import { type FastifyReply, type FastifyRequest } from 'fastify';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  correlationId?: string;
}

/** The one place domain error codes become HTTP statuses. */
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION':
    case 'UNKNOWN_ARM':
    case 'FEATURES_MISMATCH':
    case 'WRONG_MODE':
      return 400;
    case 'UNAUTHENTICATED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'POLICY_NOT_FOUND':
    case 'MODEL_NOT_FOUND':
    case 'DECISION_NOT_FOUND':
    case 'KEY_NOT_FOUND':
    case 'READING_NOT_FOUND':
      return 404;
    case 'MODEL_IN_USE':
    case 'EVENT_LIMIT':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'RATE_LIMITED':
      return 429;
    case 'UNAVAILABLE':
      return 503;
    case 'UPSTREAM_FAILED':
      return 502;
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function problem(status: number, detail: string, code: string, errors?: FieldError[]): Problem {
  const p: Problem = { type: `urn:router:problem:${code.toLowerCase().replace(/_/g, '-')}`, title: TITLES[status] ?? 'Error', status, detail };
  if (errors && errors.length > 0) p.errors = errors;
  return p;
}

/** RFC 9457 problem+json for every error; unknown errors become a 500 with a correlation id and no internals. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(@Inject(Logger) private readonly log: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const req = http.getRequest<FastifyRequest>();
    let body: Problem;
    let retryAfter: number | undefined;
    if (err instanceof DomainError) {
      body = problem(statusOf(err.code), err.message, err.code, err.errors);
      retryAfter = err.retryAfterSeconds;
    } else if (err instanceof HttpException) {
      const status = err.getStatus();
      const bodyError = status === 400 || status === 413 || status === 415;
      const detail =
        status === 404 ? `no route ${req.method} ${req.url.split('?')[0]}` : bodyError ? `the body could not be read: ${err.message}` : err.message;
      body = problem(status, detail, `http-${status}`, bodyError ? [{ path: '(body)', message: err.message }] : undefined);
    } else if (isFastifyError(err)) {
      const status = err.statusCode;
      const detail =
        err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'request body is larger than the limit'
          : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'send application/json'
            : err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
              ? 'the JSON body is empty'
              : 'the body is not valid JSON';
      body = problem(status, detail, err.code ?? `http-${status}`, [{ path: '(body)', message: detail }]);
    } else if (isDependencyDown(err)) {
      body = problem(503, 'a backing service (Redis or Postgres) is unavailable; retry later', 'UNAVAILABLE');
      retryAfter = 5;
    } else {
      const correlationId = randomUUID();
      this.log.error('unhandled error', {
        correlationId,
        error: err instanceof Error ? err.message : String(err),
        stack: err instanceof Error ? err.stack : undefined,
      });
      body = { ...problem(500, `internal error; quote correlation id ${correlationId}`, 'internal'), correlationId };
    }
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    void reply.status(body.status).header('content-type', 'application/problem+json').send(body);
  }
}

function isFastifyError(e: unknown): e is { statusCode: number; code?: string; message: string } {
  return typeof e === 'object' && e !== null && 'statusCode' in e && typeof e.statusCode === 'number' && (e as { statusCode: number }).statusCode < 500;
}
