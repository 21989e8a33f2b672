import { subscribe } from 'node:diagnostics_channel';
import { type Model } from '@app/contracts';
import { type Endpoint, endpointUrl } from './endpoint-url.js';
import { Agent, type Dispatcher, request } from 'undici';
import { type BodyLimit, bodyText, boundedChunks } from './bounded-body.js';
import { MalformedAnswer } from './completion-rewrite.js';
import { CompletionThreadFailed } from './completion-thread.js';
import { ResponseTooLarge } from './too-large.js';
import { KeyEnvRefused, upstreamKey } from './upstream-key.js';
import { originOf } from './tenant-share.js';
import { retryAfterMs, upstreamErrorObject } from './upstream-error.js';
import { ClientGone } from '../response-over.js';

/** One upstream attempt, as logged on the decision (usage event payload) and in a 502's problem. */
export interface Attempt {
  model: string;
  ok: boolean;
  status: number | null;
  error: string | null;
  ms: number;
}

/**
 * What the proxy does after a failed attempt:
 * - `retry`: the upstream failed (network, no first byte in time, 5xx, 408, a redirect, an answer that is not one);
 *   counts toward the model's breaker; try again, then fall back to the next model.
 * - `fallback`: the upstream refused the router's own request as configured (401, 403, 404, 405, 407, 410: its
 *   key, its permissions, its model name or URL), or the whole call ran out of time: counts toward the breaker;
 *   the next model at once (asking again would get the same answer, or generate the same long answer twice).
 * - `rate-limited`: the upstream's 429. The model rests for its Retry-After (RateLimitRests) and the next model
 *   is tried at once; no breaker count (a limit is not a fault).
 * - `relay`: the upstream refused the caller's request (another 4xx: its parameters); pass its answer on, no
 *   fallback.
 * - `skip`: the model cannot be called as configured; next model, breaker untouched.
 * - `stop`: give up with this failure (response over a limit, client gone, request not buildable here); breaker
 *   untouched.
 */
export type NextStep = 'retry' | 'fallback' | 'rate-limited' | 'relay' | 'skip' | 'stop';

/** Whether an upstream's error object says the request's content was refused (moderation, a content policy). */
function aboutContent(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, type, message } = error as Record<string, unknown>;
  return [code, type, message].some((v) => typeof v === 'string' && /moderat|flagged|content[ _-]?(policy|filter|management)|safety/i.test(v.slice(0, 500)));
}

/** Upstream statuses that refuse the router's request as the model is configured, not the caller's request. */
const CONFIG_REFUSALS: ReadonlySet<number> = new Set([401, 403, 404, 405, 407, 410]);

/** Why an attempt failed, and what to do next. */
export interface UpstreamFailure {
  next: NextStep;
  status: number | null;
  reason: 'timeout' | 'ttft' | 'connection' | 'status' | 'refused' | 'rate-limited' | 'malformed' | 'config' | 'too-large' | 'client' | 'local';
  message: string;
  /** For a relayed upstream 4xx: its error, in OpenAI's error object (upstreamErrorObject). */
  body?: unknown;
  /** For a 429: how long the upstream asked to be left alone, when it said. */
  retryAfterMs?: number;
  /** For a `local` failure: what was thrown building the request (our fault, not the upstream's). */
  cause?: unknown;
  /**
   * For a transport failure: the error as thrown, which may name internal hosts and addresses. Logged for
   * operators; callers get `message` (what failed and the error code) only.
   */
  detail?: string;
}

export class TtftTimeout extends Error {}

/** The upstream answered outside 2xx; `error`: its error in OpenAI's error object, when its body said one. */
export class UpstreamStatus extends Error {
  constructor(
    readonly status: number,
    readonly error: unknown,
    readonly retryAfterMs?: number,
  ) {
    super(`upstream answered ${status}`);
    this.name = 'UpstreamStatus';
  }
}

/** undici refused to send the request as the model is configured (its key or base URL): skip the model. */
export class UpstreamMisconfigured extends Error {
  constructor(cause: unknown) {
    super(`model not callable as configured: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'UpstreamMisconfigured';
  }
}

/** The request got no answer (refused, reset, unknown host …): a transport failure, the upstream's. */
export class UpstreamUnreachable extends Error {
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? String(cause), { cause });
    this.name = 'UpstreamUnreachable';
  }
}

/**
 * Maps whatever an attempt threw to an UpstreamFailure. `responded`: the upstream's status line had arrived, so a
 * later error is the upstream's (a broken body); before it, only a transport failure (UpstreamUnreachable) or a
 * status outside 2xx (UpstreamStatus) is, and anything else was thrown building the request on our side (e.g.
 * serialising it) and must not be blamed on the model.
 */
export function classify(err: unknown, signal: AbortSignal, responded: boolean): UpstreamFailure {
  if (err instanceof ResponseTooLarge) return { next: 'stop', status: null, reason: 'too-large', message: err.message };
  // A complete answer the model got wrong: retried, and counted against it. Said without echoing the body.
  if (err instanceof MalformedAnswer) return { next: 'retry', status: null, reason: 'malformed', message: err.message };
  // Our thread could not process the answer: not the model's fault, and calling it again would pay twice.
  if (err instanceof CompletionThreadFailed)
    return { next: 'stop', status: null, reason: 'local', message: `answer not processed: ${err.message}`, cause: err };
  if (err instanceof KeyEnvRefused || err instanceof UpstreamMisconfigured) return { next: 'skip', status: null, reason: 'config', message: err.message };
  if (signal.aborted) {
    if (signal.reason instanceof ClientGone) return { next: 'stop', status: null, reason: 'client', message: signal.reason.message };
    if (signal.reason instanceof TtftTimeout) return { next: 'retry', status: null, reason: 'ttft', message: 'no first byte within the TTFT limit' };
    return { next: 'fallback', status: null, reason: 'timeout', message: 'upstream timed out' };
  }
  if (err instanceof UpstreamStatus) {
    const s = err.status;
    const message = `upstream answered ${s}`;
    if (s === 429) return { next: 'rate-limited', status: s, reason: 'rate-limited', message, retryAfterMs: err.retryAfterMs };
    // A 403 about the request's content (OpenRouter's moderation) is the caller's, relayed below.
    if (CONFIG_REFUSALS.has(s) && !(s === 403 && aboutContent(err.error)))
      return { next: 'fallback', status: s, reason: 'refused', message: `${message}: the model's key, permissions or name as configured` };
    // The caller's own mistakes (another 4xx but 408) are relayed; anything else, a redirect included (the router
    // follows none), fails the attempt.
    const relay = s >= 400 && s < 500 && s !== 408;
    return { next: relay ? 'relay' : 'retry', status: s, reason: 'status', message, body: err.error };
  }
  const msg = ((err as Error)?.message ?? String(err)).slice(0, 200);
  if (err instanceof UpstreamUnreachable || responded) {
    const code = errorCode(err);
    const what = responded ? "the upstream's answer broke off" : 'upstream unreachable';
    return {
      next: 'retry',
      status: null,
      reason: /timed? ?out/i.test(msg) ? 'timeout' : 'connection',
      message: code ? `${what} (${code})` : what,
      detail: msg,
    };
  }
  return { next: 'stop', status: null, reason: 'local', message: `request not sent: ${msg}`, cause: err };
}

/** A transport error's code (`ECONNREFUSED`, `UND_ERR_SOCKET` …), on it or on its cause; never its text. */
function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code;
  }
  return undefined;
}

export interface UpstreamOptions {
  /** Only variables with this prefix are read as keys (UPSTREAM_KEY_ENV_PREFIX). */
  keyEnvPrefix: string;
  /** Largest response body read, other than an event stream (PROXY_MAX_RESPONSE_BYTES). */
  maxResponseBytes: number;
  /** Connections kept per upstream origin (PROXY_UPSTREAM_CONNECTIONS; 512 unless given). */
  connections?: number;
}

/** What an upstream answered with a 2xx: its body's chunks (bounded as `boundedChunks` says). */
export interface UpstreamAnswer {
  /** A `text/event-stream` (bounded per event by the SSE relay, not here). */
  eventStream: boolean;
  /** A JSON body (`application/json` or `application/…+json`): to a stream request, a whole completion. */
  json: boolean;
  chunks: AsyncGenerator<Buffer, void, undefined>;
}

/** A chat completion's or an embeddings request, serialised once per attempt (its model's name and options). */
export interface UpstreamRequest {
  /** Where under the model's `baseUrl`. */
  endpoint: Endpoint;
  body: string;
  /** Input tokens of the request where the upstream reports none (usage-tokens.ts). */
  inputEstimate: number;
  /** The request asks for an event stream (only then is such an answer read past the byte limit). */
  stream: boolean;
  signal: AbortSignal;
  headers: Record<string, string>;
  /**
   * Set once its body was written to a connected socket (undici's `bodySent`): from then on the upstream has the
   * prompt. Not before: a request that waited for a connection, or whose connection failed, never reached it.
   */
  sent: boolean;
  /** Called once, when `sent` is set. */
  onSent?: () => void;
  /** Set by Upstreams.post: settles when undici is done with the request (answered, failed, or dropped unsent). */
  settled?: Promise<unknown>;
  /** The router's own request (a breaker's health check): sent on connections of its own, not the tenants' pool. */
  own?: boolean;
}

/**
 * Our request behind each body undici sends (Upstreams.post): undici keeps a Buffer body as given, so its
 * diagnostics channel `bodySent` (published once the body was written to the connection) names it.
 */
const bodies = new WeakMap<Buffer, UpstreamRequest>();
subscribe('undici:request:bodySent', (m) => {
  const body = (m as { request: { body?: unknown } }).request.body;
  const r = Buffer.isBuffer(body) ? bodies.get(body) : undefined;
  if (!r || r.sent) return;
  r.sent = true;
  r.onSent?.();
});

/**
 * The upstreams' HTTP side: one keep-alive pool, requests written and answers read as bytes with undici (no
 * client library on the hot path: the proxy owns retries, fallback, timeouts and limits). The key is read from the
 * environment variable the model names, if its name has the allowed prefix (checked on every call: a model may
 * have been stored before the rule, or by another path than the admin API); otherwise KeyEnvRefused is thrown and
 * nothing is sent. A model without a key variable is called without `authorization`.
 */
export class Upstreams {
  constructor(
    private readonly opts: UpstreamOptions,
    private readonly agent: Dispatcher = new Agent({ ...UNTIMED, keepAliveTimeout: 60_000, connections: opts.connections ?? 512 }),
    /** The router's own requests: a few connections per origin that no tenant's call can hold. */
    private readonly ownAgent: Dispatcher = new Agent({ ...UNTIMED, keepAliveTimeout: 60_000, connections: OWN_CONNECTIONS }),
    private readonly ownConnections = OWN_CONNECTIONS,
  ) {}

  /** The router's own requests not settled yet, per upstream origin. */
  private readonly ownInFlight = new Map<string, Set<UpstreamRequest>>();

  /**
   * Whether the router's own requests already sent to `baseUrl`'s origin, and not answered yet, hold all its own
   * connections there: one of them not sent in time waited for another, not for the upstream. Requests whose
   * connection the upstream never took (a connect or TLS handshake that hangs) do not count: that wait is the
   * upstream's.
   */
  ownCrowded(baseUrl: string): boolean {
    let sent = 0;
    for (const r of this.ownInFlight.get(originOf(baseUrl)) ?? []) if (r.sent) sent++;
    return sent >= this.ownConnections;
  }

  /**
   * POSTs `req.body` to the model's endpoint (`/chat/completions`, `/embeddings`); throws UpstreamStatus for an answer outside 2xx, and
   * ResponseTooLarge at once for a declared length over the limit. Only an answer to a streamed request that is an
   * event stream is read without the byte limit (the SSE relay bounds it per event).
   */
  async post(model: Model, req: UpstreamRequest): Promise<UpstreamAnswer> {
    const apiKey = upstreamKey(model.apiKeyEnv, this.opts.keyEnvPrefix);
    let res: Dispatcher.ResponseData;
    const body = Buffer.from(req.body);
    bodies.set(body, req);
    try {
      const pending = request(endpointUrl(model.baseUrl ?? '', req.endpoint), {
        method: 'POST',
        headers: {
          ...req.headers,
          'content-type': 'application/json',
          accept: req.stream ? 'text/event-stream' : 'application/json',
          'user-agent': USER_AGENT,
          ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
        },
        body,
        signal: req.signal,
        dispatcher: req.own ? this.ownAgent : this.agent,
      });
      req.settled = pending.then(
        () => undefined,
        () => undefined,
      );
      if (req.own) this.countOwn(originOf(model.baseUrl ?? ''), req);
      res = await untilAborted(req.signal, pending);
    } catch (err) {
      if (req.signal.aborted) throw err;
      // undici refuses some requests before sending them (a key with a line break, a base URL it cannot call):
      // the model's configuration, not its upstream, is at fault.
      throw (err as { code?: string })?.code === 'UND_ERR_INVALID_ARG' ? new UpstreamMisconfigured(err) : new UpstreamUnreachable(err);
    }
    const type = res.headers['content-type'];
    const typeText = Array.isArray(type) ? type.join(', ') : (type ?? '');
    const eventStream = /^text\/event-stream/i.test(typeText);
    const json = /^application\/([\w.-]+\+)?json\b/i.test(typeText);
    const unbounded = req.stream && eventStream && res.statusCode < 300;
    const limit: BodyLimit = {
      bytes: unbounded ? Number.POSITIVE_INFINITY : this.opts.maxResponseBytes,
      declared: Number(res.headers['content-length'] ?? 0) || 0,
      tooLarge: () => new ResponseTooLarge('response', 'PROXY_MAX_RESPONSE_BYTES', this.opts.maxResponseBytes),
    };
    if (res.statusCode < 200 || res.statusCode >= 300) {
      // The error body as sent, when it is JSON within the limit; the status alone otherwise.
      let text = '';
      try {
        text = await bodyText(boundedChunks(res.body, limit));
      } catch {
        // over the limit, or broken: the status alone
      }
      throw new UpstreamStatus(res.statusCode, upstreamErrorObject(text), res.statusCode === 429 ? retryAfterMs(res.headers) : undefined);
    }
    return { eventStream, json, chunks: boundedChunks(res.body, limit) };
  }

  private countOwn(origin: string, req: UpstreamRequest): void {
    const set = this.ownInFlight.get(origin) ?? new Set<UpstreamRequest>();
    set.add(req);
    this.ownInFlight.set(origin, set);
    void req.settled?.then(() => {
      set.delete(req);
      if (set.size === 0 && this.ownInFlight.get(origin) === set) this.ownInFlight.delete(origin);
    });
  }
}

const USER_AGENT = 'bandit-router';
/**
 * undici's own limits off (300 s each by default): the proxy's signals bound every request (the first-byte and
 * whole-call limits), and a non-streamed answer's headers come only once it is all generated, so a 300 s headers
 * limit would cut generations that PROXY_TIMEOUT_MS allows, as a connection failure that is then retried.
 */
export const UNTIMED = { headersTimeout: 0, bodyTimeout: 0 } as const;
/** Connections per upstream origin for the router's own requests (one check per breaker at a time). */
const OWN_CONNECTIONS = 4;

/**
 * The request's answer, or its signal's reason as soon as the signal fires. undici ends a request aborted while it
 * waits for a pool connection only when a connection frees (it is then dropped unsent): the caller stops waiting
 * at once, so the time-to-first-byte limit bounds that wait too. An answer that still arrives is discarded.
 */
function untilAborted(signal: AbortSignal, pending: Promise<Dispatcher.ResponseData>): Promise<Dispatcher.ResponseData> {
  if (signal.aborted) return pending;
  return new Promise((resolve, reject) => {
    let over = false;
    const onAbort = () => {
      over = true;
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (res) => {
        signal.removeEventListener('abort', onAbort);
        if (over) res.body.destroy();
        else resolve(res);
      },
      (err: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
