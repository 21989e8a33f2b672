import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { ADMIN, startBuiltService } from './support/service.js';

/**
 * Another tenant's proxied calls while a tenant's model answers very large non-streamed completions: CLIENTS
 * clients call a model whose answer is MiB mebibytes (up to PROXY_MAX_RESPONSE_BYTES, 16 MiB), while a victim
 * alternates `GET /health/live` and a proxied call whose answer is VICTIM_KIB kibibytes (default: a few bytes; from
 * 256 KiB on, the victim's answers are rewritten on the same thread as the large ones). The two are different
 * tenants (keys of different owners). Prints the victim's latency alone (the baseline) and during the large answers,
 * in the same run, and how many large answers went through.
 * Usage: npm run bench:large-answers [-- seconds clients MiB victimKiB]   e.g. `-- 10 3 15.5`, `-- 10 3 15.5 300`
 */
const SECONDS = Number(process.argv[2] ?? 10);
const CLIENTS = Number(process.argv[3] ?? 3);
const MIB = Number(process.argv[4] ?? 15.5);
const VICTIM_KIB = Number(process.argv[5] ?? 0);
const PORT = 3981;

/** BENCH_ANSWER_SHAPE=arrays: the large answers carry their bytes as millions of empty arrays (slow to parse). */
const ARRAYS = process.env.BENCH_ANSWER_SHAPE === 'arrays';
const bigAnswer = (model: string) =>
  ARRAYS
    ? `{"id":"chatcmpl-big","object":"chat.completion","model":"${model}","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"filler":[${'[],'.repeat(Math.floor((MIB * 1024 * 1024) / 3))}[]]}`
    : plainAnswer(model);
const plainAnswer = (model: string) =>
  JSON.stringify({
    id: 'chatcmpl-big',
    object: 'chat.completion',
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'word '.repeat(Math.floor((MIB * 1024 * 1024) / 5)) }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 4 },
  });
const upstream = createServer((req, res) => {
  let raw = '';
  req.on('data', (c: Buffer) => (raw += c.toString()));
  req.on('end', () => {
    const { model } = JSON.parse(raw) as { model: string };
    const content = 'x'.repeat(VICTIM_KIB * 1024) || 'hi';
    const body =
      model === 'up-big'
        ? bigAnswer(model)
        : JSON.stringify({ id: 'c', object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content } }] });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
const svc = await startBuiltService(PORT, {});
/** Calls through the key `secret` (each side is its own tenant). */
const chat = (model: string, secret: string) =>
  fetch(`${svc.base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
  });
let victimKey = ADMIN;
let attackerKey = ADMIN;

/** The victim for `ms`: its proxied calls' p50, p99 and max, and the slowest /health/live. */
async function victim(ms: number) {
  const calls: number[] = [];
  const health: number[] = [];
  for (const end = Date.now() + ms; Date.now() < end;) {
    let t = performance.now();
    await (await fetch(`${svc.base}/health/live`)).text();
    health.push(performance.now() - t);
    t = performance.now();
    const r = await chat('small', victimKey);
    await r.text();
    if (r.status !== 200) throw new Error(`victim call answered ${r.status}`);
    calls.push(performance.now() - t);
  }
  return { n: calls.length, p50: quantile(calls, 0.5), p99: quantile(calls, 0.99), max: Math.max(...calls), health: Math.max(...health) };
}
const row = (name: string, v: Awaited<ReturnType<typeof victim>>) =>
  `${name}: victim calls ${v.n}, p50 ${v.p50.toFixed(1)} ms, p99 ${v.p99.toFixed(1)} ms, max ${v.max.toFixed(0)} ms; /health/live max ${v.health.toFixed(0)} ms`;

try {
  for (const m of ['big', 'small']) await svc.call('PUT', `/admin/models/${m}`, { baseUrl: upstreamUrl, upstreamModel: `up-${m}` });
  victimKey = ((await svc.call('POST', '/admin/keys', { name: 'victim', scope: 'route' })) as { secret: string }).secret;
  attackerKey = ((await svc.call('POST', '/admin/keys', { name: 'large-answers', scope: 'route' })) as { secret: string }).secret;
  await new Promise((r) => setTimeout(r, 500));
  console.log(`large-answers bench: ${CLIENTS} clients of ${MIB} MiB answers for ${SECONDS} s beside a victim (${VICTIM_KIB || 'a few bytes'} KiB answers)`);
  const alone = await victim(4000);
  console.log(row('alone', alone));
  let stop = false;
  let big = 0;
  const attackers = Array.from({ length: CLIENTS }, async () => {
    while (!stop) {
      const r = await chat('big', attackerKey);
      if ((await r.arrayBuffer()).byteLength > MIB * 1024 * 1024 && r.status === 200) big++;
    }
  });
  const during = await victim(SECONDS * 1000);
  stop = true;
  await Promise.all(attackers);
  console.log(`${row('during', during)}; ${big} large answers`);
  console.log(`ratio during/alone: p50 ${(during.p50 / alone.p50).toFixed(1)}x, p99 ${(during.p99 / alone.p99).toFixed(1)}x`);
} finally {
  await svc.stop();
  upstream.close();
}
