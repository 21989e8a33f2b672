// The baseline: bare Fastify answering a fixed JSON (as ../shared/perf/servers/fastify.mjs).
import Fastify from 'fastify';
const app = Fastify({ logger: false });
app.post('/v1/route', async (req) => ({ ok: true, model: 'gpt-4o-mini', arm: 3, n: String((req.body as { input?: string }).input ?? '').length }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3901) });
console.log('READY');
