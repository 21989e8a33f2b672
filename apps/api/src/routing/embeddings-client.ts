import { type Readable } from 'node:stream';
import { type Model, type EmbeddingFallbackReason } from '@app/contracts';
import { Agent, request } from 'undici';
import { endpointUrl } from '../proxy/endpoint-url.js';
import { KeyEnvRefused, upstreamKey } from '../proxy/upstream-key.js';
import { reportedCount } from '../proxy/usage-tokens.js';

/** Largest embeddings answer read (an embedding of 4,096 floats is about 90 KB of JSON). */
export const MAX_EMBEDDINGS_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Longest embedding taken, and largest magnitude of one of its values (so every projected sum stays finite). */
export const MAX_EMBEDDING_LENGTH = 65_536;
export const MAX_EMBEDDING_MAGNITUDE = 1e6;

/** Why no embedding came back: the time limit passed, the upstream failed, or the model cannot be called as configured. */
export class EmbeddingFailure extends Error {
  /** The upstream answered (2xx) before the failure: it did the work all the same. */
  made = false;

  constructor(
    readonly reason: EmbeddingFallbackReason,
    message: string,
  ) {
    super(message);
    this.name = 'EmbeddingFailure';
  }
}

/**
 * A model's OpenAI-compatible embeddings endpoint: `POST {baseUrl}/embeddings` with `{model: upstreamModel ?? id,
 * input}` and the model's key as a bearer token, read like the proxy reads it (only from a variable with the
 * allowed prefix: a model naming another is not called). One keep-alive pool for every embeddings upstream.
 */
/** Connections the embeddings calls of one replica keep per upstream origin. */
export const EMBEDDINGS_CONNECTIONS = 128;

export class EmbeddingsClient {
  private readonly agent: Agent;

  constructor(
    private readonly keyEnvPrefix: string,
    /** Connections per upstream origin. */
    readonly connections = EMBEDDINGS_CONNECTIONS,
  ) {
    this.agent = new Agent({ keepAliveTimeout: 60_000, connections });
  }

  /**
   * The first embedding of the answer, validated, with the upstream's token count; EmbeddingFailure otherwise
   * (`timeout` once `signal` aborts; `made` when the upstream answered 2xx, so it did the work).
   */
  async embed(model: Model, input: string, signal: AbortSignal): Promise<EmbeddingAnswer> {
    if (!model.baseUrl) throw new EmbeddingFailure('config', `model ${model.id} has no baseUrl`);
    let key: string | undefined;
    try {
      key = upstreamKey(model.apiKeyEnv, this.keyEnvPrefix);
    } catch (err) {
      if (err instanceof KeyEnvRefused) throw new EmbeddingFailure('config', err.message);
      throw err;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    try {
      const res = await request(endpointUrl(model.baseUrl, 'embeddings'), {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: model.upstreamModel ?? model.id, input }),
        signal,
        dispatcher: this.agent,
      });
      if (res.statusCode < 200 || res.statusCode >= 300) {
        drop(res.body);
        throw new EmbeddingFailure('error', `upstream answered ${res.statusCode}`);
      }
      try {
        return parseEmbeddingAnswer(await readBounded(res.body, Number(res.headers['content-length'] ?? 0), MAX_EMBEDDINGS_RESPONSE_BYTES));
      } catch (err) {
        if (err instanceof EmbeddingFailure && !signal.aborted) err.made = true;
        throw err;
      }
    } catch (err) {
      if (signal.aborted) throw new EmbeddingFailure('timeout', 'no embedding within the time limit');
      if (err instanceof EmbeddingFailure) throw err;
      throw new EmbeddingFailure('error', ((err as Error)?.message ?? String(err)).slice(0, 200));
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** Drops a body we will not read (and its connection); the abort error that undici then emits is expected. */
function drop(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** The body as text, read up to `limit` bytes (past it the connection is dropped and the call fails). */
async function readBounded(body: Readable, declared: number, limit: number): Promise<string> {
  if (declared > limit) {
    drop(body);
    throw new EmbeddingFailure('error', `embeddings answer over ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let seen = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (seen > limit) {
      drop(body);
      throw new EmbeddingFailure('error', `embeddings answer over ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An embedding and what the upstream said it counted (`usage.prompt_tokens`, else `usage.total_tokens`; unchecked). */
export interface EmbeddingAnswer {
  embedding: Float64Array;
  reportedTokens: unknown;
}

/** An OpenAI embeddings answer: its first embedding (parseEmbedding) and its reported token count. */
export function parseEmbeddingAnswer(text: string): EmbeddingAnswer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EmbeddingFailure('error', 'embeddings answer is not JSON');
  }
  const usage = (json as { usage?: { prompt_tokens?: unknown; total_tokens?: unknown } | null } | null)?.usage;
  return { embedding: firstEmbedding(json), reportedTokens: reportedCount(usage?.prompt_tokens, usage?.total_tokens) };
}

/**
 * `data[0].embedding` of an OpenAI embeddings answer as a Float64Array: 1–{@link MAX_EMBEDDING_LENGTH} finite
 * numbers of magnitude at most {@link MAX_EMBEDDING_MAGNITUDE}; EmbeddingFailure (`error`) for anything else.
 */
export const parseEmbedding = (text: string): Float64Array => parseEmbeddingAnswer(text).embedding;

function firstEmbedding(json: unknown): Float64Array {
  const data = (json as { data?: unknown } | null)?.data;
  const first: unknown = Array.isArray(data) ? data[0] : undefined;
  const values = (first as { embedding?: unknown } | null | undefined)?.embedding;
  if (!Array.isArray(values) || values.length === 0 || values.length > MAX_EMBEDDING_LENGTH)
    throw new EmbeddingFailure('error', `embeddings answer has no data[0].embedding of 1-${MAX_EMBEDDING_LENGTH} numbers`);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > MAX_EMBEDDING_MAGNITUDE)
      throw new EmbeddingFailure('error', `embedding value ${i} is not a finite number of magnitude at most ${MAX_EMBEDDING_MAGNITUDE}`);
    out[i] = v;
  }
  return out;
}
