// Fake OpenAI-compatible upstream (as ../shared/perf/servers/fake-openai.mjs): a fixed chat.completion at once,
// and a fixed list of two 256-value embeddings.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const reply = {
  id: 'chatcmpl-fake0001',
  object: 'chat.completion',
  created: 1700000000,
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'The duplex unit on the floor-3 printer jams; a reboot did not help.' },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 },
};
const embeddings = {
  object: 'list',
  model: 'text-embedding-3-small',
  data: [0, 1].map((index) => ({ object: 'embedding', index, embedding: Array.from({ length: 256 }, (_, i) => Math.sin(index + i) / 7) })),
  usage: { prompt_tokens: 12, total_tokens: 12 },
};
app.post('/v1/chat/completions', async () => reply);
app.post('/v1/embeddings', async () => embeddings);
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT || 9100) });
console.log('READY');
