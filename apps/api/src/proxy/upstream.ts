import { type Model } from '@app/contracts';
import OpenAI, { APIError } from 'openai';
import { fastFetch } from './fast-fetch.js';
import { ResponseTooLarge } from './too-large.js';
import { KeyEnvRefused, upstreamKey } from './upstream-key.js';

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
 * - `retry`: the upstream failed (network, timeout, 5xx, 429, 408); the only kind that counts toward the model's
 *   breaker; try again, then fall back to the next model.
 * - `relay`: the upstream refused the request (another 4xx); pass its answer on, no fallback.
 * - `skip`: the model cannot be called as configured; next model, breaker untouched.
 * - `stop`: give up with this failure (response over a limit, client gone, request not buildable here); breaker
 *   untouched.
 */
export type NextStep = 'retry' | 'relay' | 'skip' | 'stop';

/** Why an attempt failed, and what to do next. */
export interface UpstreamFailure {
  next: NextStep;
  status: number | null;
  reason: 'timeout' | 'ttft' | 'connection' | 'status' | 'config' | 'too-large' | 'client' | 'local';
  message: string;
  /** For a relayed upstream 4xx: its body, passed to the client unchanged. */
  body?: unknown;
  /** For a `local` failure: what was thrown building the request (our fault, not the upstream's). */
  cause?: unknown;
}

export class TtftTimeout extends Error {}
/** The caller's side ended the attempt (disconnected, or stopped reading): not the upstream's fault. */
export class ClientGone extends Error {}

/**
 * Maps whatever an attempt threw to an UpstreamFailure. `responded`: the upstream's status line had arrived, so a
 * later error is the upstream's (a broken body); before it, only what the client reports as a transport or HTTP
 * error is, and anything else was thrown building the request on our side (e.g. serialising it) and must not be
 * blamed on the model.
 */
export function classify(err: unknown, signal: AbortSignal, responded: boolean): UpstreamFailure {
  if (err instanceof ResponseTooLarge) return { next: 'stop', status: null, reason: 'too-large', message: err.message };
  if (err instanceof KeyEnvRefused) return { next: 'skip', status: null, reason: 'config', message: err.message };
  if (signal.aborted) {
    if (signal.reason instanceof ClientGone) return { next: 'stop', status: null, reason: 'client', message: signal.reason.message };
    const ttft = signal.reason instanceof TtftTimeout;
    return { next: 'retry', status: null, reason: ttft ? 'ttft' : 'timeout', message: ttft ? 'no first byte within the TTFT limit' : 'upstream timed out' };
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const s = err.status;
    const retry = s >= 500 || s === 429 || s === 408;
    return { next: retry ? 'retry' : 'relay', status: s, reason: 'status', message: `upstream answered ${s}`, body: err.error };
  }
  const msg = ((err as Error)?.message ?? String(err)).slice(0, 200);
  if (err instanceof APIError || responded) return { next: 'retry', status: null, reason: /timed? ?out/i.test(msg) ? 'timeout' : 'connection', message: msg };
  return { next: 'stop', status: null, reason: 'local', message: `request not sent: ${msg}`, cause: err };
}

export interface UpstreamOptions {
  timeoutMs: number;
  /** Only variables with this prefix are read as keys (UPSTREAM_KEY_ENV_PREFIX). */
  keyEnvPrefix: string;
  /** Largest response body read, other than an event stream (PROXY_MAX_RESPONSE_BYTES). */
  maxResponseBytes: number;
}

/**
 * One `openai` client per upstream (base URL + key variable), with retries off: the proxy owns the retry and
 * fallback policy. The key is read from the environment variable the model names, if its name has the allowed
 * prefix (checked on every call: a model may have been stored before the rule, or by another path than the
 * admin API); otherwise KeyEnvRefused is thrown and nothing is sent.
 */
export class UpstreamClients {
  private readonly clients = new Map<string, OpenAI>();
  private readonly fetch: ReturnType<typeof fastFetch>;

  constructor(private readonly opts: UpstreamOptions) {
    this.fetch = fastFetch(undefined, { maxBodyBytes: opts.maxResponseBytes, limitName: 'PROXY_MAX_RESPONSE_BYTES' });
  }

  get(model: Model): OpenAI {
    const apiKey = upstreamKey(model.apiKeyEnv, this.opts.keyEnvPrefix);
    const key = `${model.baseUrl}|${model.apiKeyEnv ?? ''}`;
    let c = this.clients.get(key);
    if (!c) {
      c = new OpenAI({ baseURL: model.baseUrl, apiKey: apiKey ?? 'not-needed', maxRetries: 0, timeout: this.opts.timeoutMs, fetch: this.fetch });
      this.clients.set(key, c);
    }
    return c;
  }
}
