import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

/**
 * How the fake answers: normally, with an HTTP error, by hanging, or by dropping the connection; or with a hostile
 * amount of data (`setMode`'s `bytes`, default 100 MiB): `huge` a chat.completion JSON whose content is that long
 * (chunked, no content-length), `long-line` one normal event then a `data:` line that long with no blank line,
 * `flood` that many bytes of small well-formed events (`flood-after-finish`: after a complete answer). Big bodies
 * are written as the reader takes them. For streamed requests (others are answered normally): `trickle` sends a
 * content chunk every 100 ms until the client leaves (a long generation), `stall` one chunk and then nothing;
 * `no-stream` answers them with the JSON completion, as servers that ignore `stream` do; `json-error` with a 200
 * whose JSON is an error object; `sse-as-text` streams its events as `text/plain`; `sse-error-first` streams only an
 * error event (OpenAI's mid-stream error shape), `sse-empty` only `[DONE]`, `sse-error-mid` one chunk of the answer
 * and then an error event; `sse-error-choices` an error event with a choice beside it (OpenRouter's shape);
 * `sse-truncated` one chunk of the answer and then the end (no finish, no `[DONE]`); `sse-no-done` the answer without
 * the final `[DONE]`; `redirect` answers 307 to elsewhere. `error401` refuses the router's key as OpenAI does,
 * `error429-wait` is a 429 asking for 13 s (`retry-after`), `vllm-error400` a 400 in vLLM's shape (`"object": "error"`).
 */
export type FakeMode =
  | 'ok'
  | 'error500'
  | 'error429'
  | 'error400'
  | 'error401'
  | 'error429-wait'
  | 'vllm-error400'
  | 'hang'
  | 'reset'
  | 'huge'
  | 'long-line'
  | 'flood'
  | 'flood-after-finish'
  | 'malformed'
  | 'zero-usage'
  | 'trickle'
  | 'stall'
  | 'no-stream'
  | 'json-error'
  | 'sse-as-text'
  | 'sse-error-first'
  | 'sse-empty'
  | 'sse-error-mid'
  | 'sse-no-done'
  | 'sse-error-choices'
  | 'sse-truncated'
  | 'redirect';

export interface FakeUpstream {
  url: string;
  /** Requests received per upstream model name, and the headers of the last one. */
  hits: Map<string, number>;
  lastHeaders: Map<string, IncomingHttpHeaders>;
  /** The body of the last request per upstream model name. */
  lastBodies: Map<string, Record<string, unknown>>;
  /** Body bytes handed to the socket per upstream model name (the big modes). */
  sent: Map<string, number>;
  setMode(model: string, mode: FakeMode, bytes?: number): void;
  close(): Promise<void>;
}

/**
 * A small OpenAI-compatible upstream for tests and benchmarks: `POST /v1/chat/completions` answers a fixed
 * completion with usage, or streams it as server-sent events (`chunkDelayMs` between chunks, the first one at
 * once; usage only when `stream_options.include_usage` asks), per model in the request body; behaviour per model switchable at run time.
 */
export async function startFakeUpstream(
  opts: {
    latencyMs?: number;
    chunkDelayMs?: number;
    /** The non-streamed answer's text for an upstream model and the request's last message (default: a greeting). */
    answer?: (model: string, prompt: string) => string | undefined;
    /** A pause between a stream's last choice (its finish_reason) and its usage chunk. */
    usageDelayMs?: number;
  } = {},
): Promise<FakeUpstream> {
  const modes = new Map<string, FakeMode>();
  const sizes = new Map<string, number>();
  const sent = new Map<string, number>();
  const hits = new Map<string, number>();
  const lastHeaders = new Map<string, IncomingHttpHeaders>();
  const lastBodies = new Map<string, Record<string, unknown>>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      void (async () => {
        let body: { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean }; messages?: { content?: string }[] };
        try {
          body = JSON.parse(raw);
        } catch {
          res.writeHead(400).end();
          return;
        }
        const model = body.model ?? 'unknown';
        hits.set(model, (hits.get(model) ?? 0) + 1);
        lastHeaders.set(model, req.headers);
        lastBodies.set(model, body);
        const said = String(body.messages?.at(-1)?.content ?? '');
        // A request whose last message says so fails with a 500 (parameters an upstream chokes on): the caller's doing.
        const mode = said.includes('[boom]') ? 'error500' : (modes.get(model) ?? 'ok');
        // Never answers (the proxy's timeouts must fire): the model's mode, or a request whose last message says so.
        if (mode === 'hang' || said.includes('[hang]')) return;
        if (mode === 'reset') {
          req.socket.destroy();
          return;
        }
        if (mode === 'huge' || mode === 'long-line' || mode === 'flood' || mode === 'flood-after-finish') {
          await big(res, model, mode, sizes.get(model) ?? 100 * 1024 * 1024, sent);
          return;
        }
        if ((mode === 'trickle' || mode === 'stall') && body.stream) {
          await slowStream(res, model, mode);
          return;
        }
        if (mode === 'sse-error-choices' || mode === 'sse-truncated') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const choices = [{ index: 0, delta: { content: 'Once' }, finish_reason: mode === 'sse-truncated' ? null : 'error' }];
          const extra = mode === 'sse-truncated' ? {} : { error: { message: 'provider failed', code: 502 } };
          res.end(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model, choices, ...extra })}\n\n`);
          return;
        }
        if (mode === 'sse-error-first' || mode === 'sse-empty' || mode === 'sse-error-mid') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const chunk = {
            id: 'chatcmpl-fake',
            object: 'chat.completion.chunk',
            created: 1,
            model,
            choices: [{ index: 0, delta: { content: 'Once' }, finish_reason: null }],
          };
          if (mode === 'sse-error-mid') {
            // The error comes later, on its own (else it arrives with the first chunk, before anything was sent).
            res.write(`data: ${JSON.stringify(chunk)}\n\n`);
            await new Promise((r) => setTimeout(r, 100));
          }
          if (mode !== 'sse-empty') res.write(`data: ${JSON.stringify({ error: { message: 'model overloaded', type: 'server_error' } })}\n\n`);
          res.end('data: [DONE]\n\n');
          return;
        }
        if (mode === 'redirect') {
          res.writeHead(307, { location: 'http://127.0.0.1:9/v1/chat/completions' }).end();
          return;
        }
        if (mode === 'json-error') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } }));
          return;
        }
        if (mode === 'error401' || mode === 'error429-wait' || mode === 'vllm-error400') {
          const [status, headers, error] =
            mode === 'error401'
              ? [401, {}, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }]
              : mode === 'error429-wait'
                ? [429, { 'retry-after': '13' }, { error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } }]
                : [
                    400,
                    {},
                    { object: 'error', message: "This model's maximum context length is 4096 tokens", type: 'BadRequestError', param: null, code: 400 },
                  ];
          res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(error));
          return;
        }
        if (mode === 'malformed') {
          // A 200 whose body is not the JSON it says it is: an answer made upstream that cannot be used.
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"chatcmpl-fake","choices":[');
          return;
        }
        if (!['ok', 'zero-usage', 'trickle', 'stall', 'no-stream', 'sse-as-text', 'sse-no-done'].includes(mode)) {
          const status = mode === 'error500' ? 500 : mode === 'error429' ? 429 : 400;
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `fake ${status}`, type: 'fake' } }));
          return;
        }
        if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
        const words = ['Hello', ' from', ` ${model}`, '!'];
        // `no-stream`: as servers that ignore `stream`, the JSON answer whatever was asked.
        if (body.stream && mode !== 'no-stream') {
          // As OpenAI streams: usage only when asked (`usage: null` on every chunk, then a chunk without choices).
          const withUsage = body.stream_options?.include_usage === true;
          const usage = withUsage ? { usage: null } : {};
          const event = (choices: unknown[], extra: object = usage) =>
            `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model, choices, ...extra })}\n\n`;
          res.writeHead(200, { 'content-type': mode === 'sse-as-text' ? 'text/plain' : 'text/event-stream' });
          for (let i = 0; i < words.length; i++) {
            res.write(event([{ index: 0, delta: { content: words[i] }, finish_reason: null }]));
            if (opts.chunkDelayMs && i < words.length - 1) await new Promise((r) => setTimeout(r, opts.chunkDelayMs));
          }
          res.write(event([{ index: 0, delta: {}, finish_reason: 'stop' }]));
          if (opts.usageDelayMs) await new Promise((r) => setTimeout(r, opts.usageDelayMs));
          if (withUsage) res.write(event([], { usage: { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 } }));
          res.end(mode === 'sse-no-done' ? '' : 'data: [DONE]\n\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: 'chatcmpl-fake',
            object: 'chat.completion',
            created: 1,
            model,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: opts.answer?.(model, body.messages?.at(-1)?.content ?? '') ?? words.join('') },
                finish_reason: 'stop',
              },
            ],
            usage:
              mode === 'zero-usage'
                ? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }
                : { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 },
          }),
        );
      })();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    lastHeaders,
    lastBodies,
    sent,
    setMode: (model, mode, bytes) => {
      modes.set(model, mode);
      if (bytes === undefined) sizes.delete(model);
      else sizes.set(model, bytes);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const FILL = Buffer.alloc(64 * 1024, 'a');

/** Writes `total` filler bytes between `head` and `tail`, waiting for 'drain' so the fake itself stays small. */
async function pump(
  res: ServerResponse,
  model: string,
  sent: Map<string, number>,
  head: string,
  total: number,
  tail: string,
  piece: Buffer = FILL,
): Promise<void> {
  const count = (n: number) => sent.set(model, (sent.get(model) ?? 0) + n);
  res.write(head);
  count(head.length);
  for (let left = total; left > 0 && !res.destroyed;) {
    const chunk = left >= piece.length ? piece : piece.subarray(0, left);
    left -= chunk.length;
    count(chunk.length);
    if (!res.write(chunk))
      await new Promise<void>((r) => {
        const go = () => (res.off('drain', go), res.off('close', go), r());
        res.on('drain', go);
        res.on('close', go);
      });
  }
  if (!res.destroyed) res.end(tail);
}

function big(
  res: ServerResponse,
  model: string,
  mode: 'huge' | 'long-line' | 'flood' | 'flood-after-finish',
  bytes: number,
  sent: Map<string, number>,
): Promise<void> {
  const chunk = (content: string) =>
    JSON.stringify({
      id: 'chatcmpl-fake',
      object: 'chat.completion.chunk',
      created: 1,
      model,
      choices: [{ index: 0, delta: { content }, finish_reason: null }],
    });
  if (mode === 'huge') {
    res.writeHead(200, { 'content-type': 'application/json' });
    const head = `{"id":"chatcmpl-fake","object":"chat.completion","created":1,"model":"${model}","choices":[{"index":0,"message":{"role":"assistant","content":"`;
    return pump(res, model, sent, head, bytes, '"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":4,"total_tokens":11}}');
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  if (mode === 'long-line') return pump(res, model, sent, `data: ${chunk('Hello')}\n\ndata: `, bytes, '\n\ndata: [DONE]\n\n');
  const event = `data: ${chunk('x'.repeat(900))}\n\n`;
  const piece = Buffer.from(event.repeat(Math.max(1, Math.floor(FILL.length / event.length))));
  // `flood-after-finish`: a complete answer (its finish_reason), then the flood where only a usage chunk belongs.
  const finished = `data: ${chunk('Hello')}\n\ndata: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`;
  const head = mode === 'flood-after-finish' ? finished : '';
  return pump(res, model, sent, head, Math.ceil(bytes / piece.length) * piece.length, 'data: [DONE]\n\n', piece);
}

/** `trickle`: a content chunk every 100 ms until the client leaves; `stall`: one chunk, then silence. */
async function slowStream(res: ServerResponse, model: string, mode: 'trickle' | 'stall'): Promise<void> {
  const chunk = (text: string) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  let gone = false;
  res.on('close', () => (gone = true));
  res.write(chunk('Once'));
  if (mode === 'stall') return;
  while (!gone) {
    await new Promise((r) => setTimeout(r, 100));
    if (!gone) res.write(chunk(' upon a time'));
  }
}
