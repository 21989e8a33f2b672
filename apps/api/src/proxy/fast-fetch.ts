import { type Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { ResponseTooLarge } from './too-large.js';

export interface FastFetchOptions {
  /**
   * Largest body read from a response that is not a 2xx event stream (a streamed answer is bounded per event by
   * the SSE relay instead): past it the body errors with ResponseTooLarge and the connection is dropped, so an
   * upstream's answer or error body is never buffered whole.
   */
  maxBodyBytes?: number;
  /** The setting the limit comes from, named in the error. */
  limitName?: string;
}

/**
 * A `fetch` for the `openai` client over undici's `request` with a keep-alive pool: the same WHATWG Response to
 * the client, at about a third less time per call than Node 20's global fetch on this machine (measured:
 * 1.12 vs 1.70 ms per sequential call to a local upstream).
 */
export function fastFetch(agent: Agent = new Agent({ keepAliveTimeout: 60_000, connections: 512 }), opts: FastFetchOptions = {}) {
  const { maxBodyBytes = Number.POSITIVE_INFINITY, limitName = 'the response size limit' } = opts;
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const res = await request(url, {
      method: (init?.method ?? 'GET') as 'GET',
      headers: init?.headers as Record<string, string> | undefined,
      body: init?.body as string | undefined,
      signal: init?.signal ?? undefined,
      dispatcher: agent,
    });
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const empty = res.statusCode === 204 || res.statusCode === 304;
    if (empty) res.body.resume();
    const eventStream = res.statusCode < 300 && /^text\/event-stream/i.test(headers.get('content-type') ?? '');
    const limit = eventStream ? Number.POSITIVE_INFINITY : maxBodyBytes;
    const tooLarge = () => new ResponseTooLarge('response', limitName, maxBodyBytes);
    return new Response(empty ? null : webBody(res.body, limit, Number(headers.get('content-length') ?? 0), tooLarge), { status: res.statusCode, headers });
  };
}

/**
 * undici's body as a web stream that errors with `tooLarge()` (dropping the connection) once more than `limit`
 * bytes arrive, or at once when the declared length is over it. Hand-made rather than `Readable.toWeb`: Node 20's
 * adapter can enqueue a chunk still buffered after a cancel or abort, which throws outside any promise and takes
 * the process down.
 */
function webBody(body: Readable, limit: number, declared: number, tooLarge: () => Error): ReadableStream<Uint8Array> {
  let seen = 0;
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const fail = (err: Error) => {
          if (settled) return;
          settled = true;
          controller.error(err);
          body.destroy();
        };
        body.pause();
        if (declared > limit) return fail(tooLarge());
        body.on('data', (chunk: Buffer) => {
          if (settled) return;
          seen += chunk.length;
          if (seen > limit) return fail(tooLarge());
          controller.enqueue(new Uint8Array(chunk));
          if ((controller.desiredSize ?? 0) <= 0) body.pause();
        });
        body.once('end', () => {
          if (settled) return;
          settled = true;
          controller.close();
        });
        body.once('error', fail);
        body.once('close', () => fail(new Error('upstream body closed before its end')));
      },
      pull() {
        body.resume();
      },
      cancel(reason) {
        settled = true;
        body.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}
