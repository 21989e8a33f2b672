import { type Model } from '@app/contracts';
import OpenAI, { APIError } from 'openai';
import { fastFetch } from './fast-fetch.js';

/** One upstream attempt, as logged on the decision (usage event payload) and in a 502's problem. */
export interface Attempt {
  model: string;
  ok: boolean;
  status: number | null;
  error: string | null;
  ms: number;
}

/** Why an attempt failed, and whether another try (same or next model) may succeed. */
export interface UpstreamFailure {
  retryable: boolean;
  status: number | null;
  reason: 'timeout' | 'ttft' | 'connection' | 'status' | 'config';
  message: string;
  /** For a non-retryable upstream 4xx: its body, passed to the client unchanged. */
  body?: unknown;
}

export class TtftTimeout extends Error {}

/** Maps whatever the openai client threw to an UpstreamFailure (5xx, 429, 408, timeouts, resets: retryable). */
export function classify(err: unknown, signal: AbortSignal): UpstreamFailure {
  if (signal.aborted) {
    const ttft = signal.reason instanceof TtftTimeout;
    return { retryable: true, status: null, reason: ttft ? 'ttft' : 'timeout', message: ttft ? 'no first byte within the TTFT limit' : 'upstream timed out' };
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const s = err.status;
    const retryable = s >= 500 || s === 429 || s === 408;
    return { retryable, status: s, reason: 'status', message: `upstream answered ${s}`, body: err.error };
  }
  const msg = (err as Error)?.message ?? String(err);
  return { retryable: true, status: null, reason: /timed? ?out/i.test(msg) ? 'timeout' : 'connection', message: msg.slice(0, 200) };
}

/**
 * One `openai` client per upstream (base URL + key variable), with retries off: the proxy owns the retry and
 * fallback policy. The key is read from the environment variable the model names.
 */
export class UpstreamClients {
  private readonly clients = new Map<string, OpenAI>();
  private readonly fetch = fastFetch();

  get(model: Model, timeoutMs: number): OpenAI {
    const key = `${model.baseUrl}|${model.apiKeyEnv ?? ''}`;
    let c = this.clients.get(key);
    if (!c) {
      c = new OpenAI({
        baseURL: model.baseUrl,
        apiKey: (model.apiKeyEnv ? process.env[model.apiKeyEnv] : undefined) ?? 'not-needed',
        maxRetries: 0,
        timeout: timeoutMs,
        fetch: this.fetch,
      });
      this.clients.set(key, c);
    }
    return c;
  }
}
