import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

let provider: NodeTracerProvider | null = null;

/**
 * OpenTelemetry tracing, off unless an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`, e.g.
 * http://collector:4318): spans go to `<endpoint>/v1/traces` (OTLP/HTTP JSON) in batches. W3C trace context is
 * the propagator, so a caller's `traceparent` continues into our spans and on to the upstream and the worker.
 * Idempotent per process (the e2e tests run api and worker in one process).
 */
export function startTracing(serviceName: string, endpoint: string | undefined): void {
  if (!endpoint || provider) return;
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }), { scheduledDelayMillis: 500 })],
  });
  provider.register();
}

export async function stopTracing(): Promise<void> {
  await provider?.shutdown().catch(() => undefined);
  provider = null;
}

const tracer = () => trace.getTracer('bandit-router');

/** The W3C `traceparent` (and `tracestate`) of the active span, for headers and queue jobs. */
export function traceCarrier(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/**
 * Runs `fn` inside a span (a child of `carrier`'s context when given, else of the active one); records an
 * exception and an error status when `fn` throws.
 */
export async function withSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  fn: (span: Span) => Promise<T>,
  opts: { carrier?: Record<string, string | string[] | undefined>; kind?: SpanKind } = {},
): Promise<T> {
  const parent = opts.carrier ? propagation.extract(context.active(), opts.carrier) : context.active();
  return tracer().startActiveSpan(name, { attributes, kind: opts.kind ?? SpanKind.INTERNAL }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

export { SpanKind, SpanStatusCode };
