import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

/**
 * How the fake answers for one upstream model name: normally, after `slowMs`, with a 500, with a 200 that is not
 * JSON, or with a usage that gives only `total_tokens` (and chat fields an embeddings answer should not carry).
 */
export type FakeEmbeddingsMode = 'ok' | 'slow' | 'error500' | 'malformed' | 'odd-usage';

export interface FakeEmbeddings {
  url: string;
  /** Every request received: the upstream model, the input, the headers and the whole body. */
  calls: { model: string; input: unknown; headers: IncomingHttpHeaders; body: Record<string, unknown> }[];
  /** The most requests open at once (received, not yet answered or closed) since the last resetPeak(). */
  peak(): number;
  resetPeak(): void;
  setMode(model: string, mode: FakeEmbeddingsMode): void;
  close(): Promise<void>;
}

/** A deterministic 32-value embedding of a text (FNV-1a of it, spread by sines): equal texts, equal embeddings. */
export function fakeEmbedding(text: string): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return Array.from({ length: 32 }, (_, i) => Math.sin(h / 1e6 + i * 1.7));
}

/**
 * A small OpenAI-compatible embeddings upstream for tests: `POST …/embeddings` answers
 * `{object: "list", data: [{object: "embedding", index, embedding}, …], model, usage}` (one per text of an array); per upstream model name it can
 * answer late (`slowMs`) or fail with a 500.
 */
export async function startFakeEmbeddings(opts: { slowMs?: number } = {}): Promise<FakeEmbeddings> {
  const modes = new Map<string, FakeEmbeddingsMode>();
  const calls: FakeEmbeddings['calls'] = [];
  let open = 0;
  let peak = 0;
  const server: Server = createServer((req, res) => {
    peak = Math.max(peak, ++open);
    res.on('close', () => open--);
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      void (async () => {
        if (req.method !== 'POST' || !req.url?.endsWith('/embeddings')) {
          res.writeHead(404).end();
          return;
        }
        let body: { model?: string; input?: unknown };
        try {
          body = JSON.parse(raw);
        } catch {
          res.writeHead(400).end();
          return;
        }
        const model = body.model ?? 'unknown';
        calls.push({ model, input: body.input, headers: req.headers, body });
        const mode = modes.get(model) ?? 'ok';
        if (mode === 'error500') {
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'fake 500', type: 'fake' } }));
          return;
        }
        if (mode === 'malformed') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"object": "list", "data": [');
          return;
        }
        if (mode === 'slow') await new Promise((r) => setTimeout(r, opts.slowMs ?? 1000));
        if (res.destroyed) return;
        // One embedding per text of an array of texts; one for anything else; 3 tokens each.
        const texts = Array.isArray(body.input) && body.input.every((t) => typeof t === 'string') ? body.input : [body.input];
        const data = texts.map((t, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(typeof t === 'string' ? t : JSON.stringify(t)) }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify(
            mode === 'odd-usage'
              ? {
                  object: 'list',
                  model,
                  data,
                  choices: [{ message: { content: 'x'.repeat(400) } }],
                  usage: { total_tokens: 3 * texts.length, completion_tokens: 1000 },
                }
              : { object: 'list', model, data, usage: { prompt_tokens: 3 * texts.length, total_tokens: 3 * texts.length } },
          ),
        );
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    peak: () => peak,
    resetPeak: () => (peak = open),
    setMode: (model, mode) => modes.set(model, mode),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
