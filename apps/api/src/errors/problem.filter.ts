import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { DomainError, ERROR_CODES, type ErrorCode, type FieldError } from '@app/errors';
import { isDependencyDown, Logger } from '@app/infra';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { ClientGone } from '../response-over.js';
import { SAID_REFUSALS } from '../body-parsers.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  correlationId?: string;
}

/** OpenAI's error envelope, which its SDKs (and LiteLLM, Portkey …) read on the OpenAI-compatible paths. */
export interface OpenAiError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * An error as the api answers it, before it takes the shape of its path: problem+json on our own paths, OpenAI's
 * envelope on the OpenAI-compatible ones.
 */
export interface ErrorAnswer {
  status: number;
  /** A domain error code, or what the HTTP layer refused (`http-<status>`, a Fastify code, `internal`). */
  code: string;
  detail: string;
  errors?: FieldError[];
  retryAfterSeconds?: number;
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
    case 'AUDIT_NOT_FOUND':
      return 404;
    case 'MODEL_IN_USE':
    case 'EVENT_LIMIT':
    case 'NOTHING_TO_REVERT':
    case 'CASCADE_CONFLICT':
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

/**
 * The one place errors get OpenAI's `code` on the OpenAI-compatible paths: each domain code here, what the HTTP
 * layer refused by its status (openAiCode). OpenAI's `type` follows the status (openAiType).
 */
function openAiDomainCode(code: ErrorCode): string {
  switch (code) {
    case 'VALIDATION':
    case 'UNKNOWN_ARM':
    case 'FEATURES_MISMATCH':
    case 'WRONG_MODE':
      return 'invalid_value';
    case 'UNAUTHENTICATED':
      return 'invalid_api_key';
    case 'FORBIDDEN':
      return 'insufficient_permissions';
    case 'POLICY_NOT_FOUND':
    case 'MODEL_NOT_FOUND':
      return 'model_not_found';
    case 'DECISION_NOT_FOUND':
    case 'KEY_NOT_FOUND':
    case 'READING_NOT_FOUND':
    case 'AUDIT_NOT_FOUND':
      return 'not_found';
    case 'MODEL_IN_USE':
    case 'EVENT_LIMIT':
    case 'NOTHING_TO_REVERT':
    case 'CASCADE_CONFLICT':
      return 'conflict';
    case 'PAYLOAD_TOO_LARGE':
      return 'request_too_large';
    case 'RATE_LIMITED':
      return 'rate_limit_exceeded';
    case 'UNAVAILABLE':
      return 'service_unavailable';
    case 'UPSTREAM_FAILED':
      return 'upstream_failed';
  }
}

const HTTP_OPENAI_CODES: Record<number, string> = {
  400: 'invalid_request_body',
  404: 'unknown_url',
  408: 'request_timeout',
  413: 'request_too_large',
  415: 'unsupported_media_type',
  417: 'expectation_failed',
  431: 'headers_too_large',
  500: 'internal_error',
};

const isErrorCode = (code: string): code is ErrorCode => (ERROR_CODES as readonly string[]).includes(code);

function openAiCode(code: string, status: number): string | null {
  return isErrorCode(code) ? openAiDomainCode(code) : (HTTP_OPENAI_CODES[status] ?? null);
}

/** OpenAI's error `type` for a status. */
export function openAiType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 429:
      return 'rate_limit_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** The proxy's paths, and OpenAI's others it does not offer (their 404 reaches an OpenAI client in its envelope). */
const OPENAI_PATHS = [
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/models',
  '/v1/completions',
  '/v1/responses',
  '/v1/audio',
  '/v1/images',
  '/v1/moderations',
  '/v1/files',
  '/v1/uploads',
  '/v1/batches',
  '/v1/fine_tuning',
  '/v1/assistants',
  '/v1/threads',
  '/v1/vector_stores',
  '/v1/realtime',
];

/**
 * The paths an OpenAI client calls (the proxy's, and what lies below them, e.g. a trailing slash): their errors
 * take OpenAI's envelope instead of problem+json.
 */
export function isOpenAiPath(url: string): boolean {
  const path = pathOfTarget(url);
  return OPENAI_PATHS.some((p) => path === p || path.startsWith(`${p}/`)) || path.startsWith('/v1/chat/');
}

/**
 * The path of a request target as the router reads it: without query or fragment, percent-decoded, and the path of
 * an absolute-form target (`POST http://host/v1/models`).
 */
function pathOfTarget(url: string): string {
  let path = url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      path = new URL(url).pathname;
    } catch {
      return url;
    }
  }
  path = path.split(/[?#]/, 1)[0];
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}

/** The reason phrase of a status: a problem's `title`, and the status line of an answer written by hand. */
export const titleOf = (status: number): string => TITLES[status] ?? 'Error';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function problem(status: number, detail: string, code: string, errors?: FieldError[]): Problem {
  const p: Problem = { type: `urn:router:problem:${code.toLowerCase().replace(/_/g, '-')}`, title: titleOf(status), status, detail };
  if (errors && errors.length > 0) p.errors = errors;
  return p;
}

/** Entries of `errors` that are not a request field: the body or URL as a whole, a proxied call's attempts. */
const notAField = (path: string) => path.startsWith('(') || path.startsWith('attempts.');

/**
 * The answer in OpenAI's envelope: `message` is the detail followed by every field at fault (`path: message`) or
 * failed attempt, `param` the first field at fault, if any.
 */
export function openAiError(a: ErrorAnswer): OpenAiError {
  // A body's error the detail already ends with (a body that could not be read) is not said twice.
  const listed = (a.errors ?? []).filter((e) => e.message !== a.detail && !(e.path === '(body)' && a.detail.endsWith(e.message)));
  const fields = listed.map((e) => (notAField(e.path) ? e.message : `${e.path}: ${e.message}`));
  const param = (a.errors ?? []).find((e) => !notAField(e.path))?.path ?? null;
  return {
    error: {
      message: fields.length > 0 ? `${a.detail}: ${fields.join('; ')}` : a.detail,
      type: openAiType(a.status),
      param,
      code: openAiCode(a.code, a.status),
    },
  };
}

/** An error answer's content type and body in the shape `url`'s path calls for: for answers written by hand. */
export function errorPayload(url: string, a: ErrorAnswer): { type: string; body: string } {
  const openAi = isOpenAiPath(url);
  return {
    type: openAi ? 'application/json; charset=utf-8' : 'application/problem+json',
    body: JSON.stringify(openAi ? openAiError(a) : problem(a.status, a.detail, a.code, a.errors)),
  };
}

/** Writes an error answer in the shape its path calls for (with Retry-After when it has one). */
export function sendError(reply: FastifyReply, url: string, a: ErrorAnswer): void {
  if (a.retryAfterSeconds !== undefined) void reply.header('retry-after', String(a.retryAfterSeconds));
  if (isOpenAiPath(url)) {
    void reply.status(a.status).header('content-type', 'application/json; charset=utf-8').send(openAiError(a));
    return;
  }
  const body = problem(a.status, a.detail, a.code, a.errors);
  void reply
    .status(a.status)
    .header('content-type', 'application/problem+json')
    .send(a.correlationId === undefined ? body : { ...body, correlationId: a.correlationId });
}

/**
 * The api's one exception filter: problem+json (RFC 9457) on our paths, OpenAI's error envelope on the
 * OpenAI-compatible ones; unknown errors become a 500 quoting the request id as correlation id, with no internals.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(@Inject(Logger) private readonly log: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    sendError(http.getResponse<FastifyReply>(), req.url, this.answer(err, req));
  }

  private answer(err: unknown, req: FastifyRequest): ErrorAnswer {
    if (err instanceof DomainError)
      return { status: statusOf(err.code), code: err.code, detail: err.message, errors: err.errors, retryAfterSeconds: err.retryAfterSeconds };
    if (err instanceof HttpException) {
      const status = err.getStatus();
      const bodyError = status === 400 || status === 413 || status === 415;
      const detail =
        status === 404 ? `no route ${req.method} ${req.url.split('?')[0]}` : bodyError ? `the body could not be read: ${err.message}` : err.message;
      return { status, code: `http-${status}`, detail, errors: bodyError ? [{ path: '(body)', message: err.message }] : undefined };
    }
    if (isFastifyError(err)) {
      const detail =
        err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'request body is larger than the limit'
          : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'send application/json'
            : SAID_REFUSALS.has(err.code ?? '')
              ? err.message
              : err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
                ? 'the JSON body is empty'
                : 'the body is not valid JSON';
      return { status: err.statusCode, code: err.code ?? `http-${err.statusCode}`, detail, errors: [{ path: '(body)', message: detail }] };
    }
    if (err instanceof ClientGone) return { status: 499, code: 'client-gone', detail: err.message };
    if (isDependencyDown(err))
      return { status: 503, code: 'UNAVAILABLE', detail: 'a backing service (Redis or Postgres) is unavailable; retry later', retryAfterSeconds: 5 };
    const correlationId = req.id;
    this.log.error('unhandled error', {
      correlationId,
      error: err instanceof Error ? err.message : String(err),
      stack: err instanceof Error ? err.stack : undefined,
    });
    return { status: 500, code: 'internal', detail: `internal error; quote correlation id ${correlationId}`, correlationId };
  }
}

function isFastifyError(e: unknown): e is { statusCode: number; code?: string; message: string } {
  return typeof e === 'object' && e !== null && 'statusCode' in e && typeof e.statusCode === 'number' && (e as { statusCode: number }).statusCode < 500;
}
