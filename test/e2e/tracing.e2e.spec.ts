import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { stopTracing } from '@app/infra';
import { client, eventually, freshEnvironment, type Running, startService } from '../support/harness.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';

interface OtlpSpan {
  traceId: string;
  name: string;
}

/** One proxied request = one trace: the api's request span, the upstream call (traceparent sent on), the worker. */
describe('OpenTelemetry traces across api → upstream → queue → worker', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;
  let up: FakeUpstream;
  let collector: Server;
  const spans: OtlpSpan[] = [];

  beforeAll(async () => {
    collector = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        try {
          const body = JSON.parse(raw) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
          for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        } catch {
          // not JSON: ignored
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    up = await startFakeUpstream();
    env = await freshEnvironment('trace');
    svc = await startService(env, 1, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}` });
    const admin = client(svc.url);
    expect((await admin.put('/admin/models/solo', { baseUrl: `${up.url}/v1`, upstreamModel: 'up-solo' })).status).toBe(200);
    expect((await admin.put('/admin/policies/traced', { algorithm: 'linucb', arms: ['solo'] })).status).toBe(201);
  });

  afterAll(async () => {
    await svc.close();
    await stopTracing();
    await env.drop();
    await up.close();
    collector.close();
  });

  it("continues the caller's trace into the upstream call and the worker's learning step", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const r = await client(svc.url).post(
      '/v1/chat/completions',
      { model: 'router/traced', messages: [{ role: 'user', content: 'trace me' }] },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    expect(r.status).toBe(200);
    expect(String(up.lastHeaders.get('up-solo')?.traceparent)).toContain(traceId);
    await eventually(
      async () =>
        ['POST /v1/chat/completions', 'upstream chat.completions', 'learn usage'].every((n) => spans.some((s) => s.name === n && s.traceId === traceId)),
      20_000,
    );
  }, 30_000);
});
