import { adminClient } from './support/admin-client.js';
import { Redis } from 'ioredis';
import { cpuSampler, pidsNamed } from './support/process-cpu.js';
import { startBuiltService } from './support/service.js';

/**
 * CPU per learning event across the stack, and route latency, under a steady mixed load: ROUTES routes/s,
 * FEEDBACK single feedback events/s and ENERGY single energy readings/s (each for a decision routed earlier),
 * K = 16 arms, d = 64 (hashed prompt features), LinUCB, for SECONDS. CPU is read from /proc for the api, the
 * worker, Redis and every Postgres process (the load generator, this process, is not counted), divided by the
 * events sent (routes + feedback + energy). Then: how long after the load stops until every accepted event is
 * learnt. Run once with single events committed one job each (INGEST_GROUP_COMMIT_MS=-1) and once with group
 * commit (the default), in the same run; prints both and their ratio.
 * Usage: npm run bench:events [-- routes feedback energy seconds]   (Linux; local Redis and Postgres)
 */
const [ROUTES = 200, FEEDBACK = 160, ENERGY = 100, SECONDS = 30] = process.argv.slice(2).map(Number);
const PROMPTS = ['explain', 'solve', 'translate', 'write', 'code', 'poem', 'sum', 'list', 'why', 'compare'].map(
  (w, i) => `${w} the ${i}th item of the benchmark set, with an example and a short justification of each step`,
);

interface RunResult {
  label: string;
  events: number;
  cpuMsPerEvent: { api: number; worker: number; redis: number; postgres: number; total: number };
  route: { p50: number; p99: number; max: number };
  learntAfterMs: number;
  rejected: number;
  /**
   * Redis commands the run cost (every client: api, worker; counted inside scripts too), per event sent, in all and
   * the most frequent; `jobs`: queue jobs per event (BullMQ pushes each new job onto its wait list once: LPUSH).
   */
  redisCommands: { perEvent: number; top: [string, number][]; jobs: number };
}

async function redisPid(): Promise<number> {
  const r = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const info = await r.info('server');
  await r.quit();
  return Number(/process_id:(\d+)/.exec(info)![1]);
}

/** Calls per Redis command so far (`INFO commandstats`). */
async function commandCalls(): Promise<Map<string, number>> {
  const r = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const info = await r.info('commandstats');
  await r.quit();
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

async function run(label: string, port: number, env: Record<string, string>): Promise<RunResult> {
  const svc = await startBuiltService(port, env);
  const { post, close } = adminClient(svc.base, 64);
  try {
    const arms = Array.from({ length: 16 }, (_, i) => `m${i}`);
    for (const m of arms) await svc.call('PUT', `/admin/models/${m}`, { energy: { joulesPerOutputToken: 0.1 + 0.05 * Number(m.slice(1)) } });
    await svc.call('PUT', '/admin/policies/ev', { algorithm: 'linucb', arms, objective: { quality: 1, energy: 0.3 }, feedback: { aggregation: 'all' } });
    await new Promise((r) => setTimeout(r, 500));
    const decisions: string[] = [];
    for (let i = 0; i < 400; i++) decisions.push((await post('/v1/route', { policy: 'ev', input: PROMPTS[i % PROMPTS.length] })).body.decisionId);
    const pick = () => decisions[Math.floor(Math.random() * decisions.length)];
    const rp = await redisPid();
    const callsBefore = await commandCalls();
    const samplers = {
      api: cpuSampler(() => [svc.pids.api]),
      worker: cpuSampler(() => [svc.pids.worker]),
      redis: cpuSampler(() => [rp]),
      postgres: cpuSampler(() => pidsNamed('postgres')),
    };
    const latencies: number[] = [];
    const inflight: Promise<unknown>[] = [];
    let sent = 0;
    let rejected = 0;
    let feedbackAccepted = 0;
    let energyAccepted = 0;
    const fire = (kind: 'route' | 'feedback' | 'energy', i: number) => {
      sent++;
      const t0 = performance.now();
      const p =
        kind === 'route'
          ? post('/v1/route', { policy: 'ev', input: PROMPTS[i % PROMPTS.length] }).then((r) => {
              latencies.push(performance.now() - t0);
              if (r.status !== 200) rejected++;
              else if (decisions.length < 20_000) decisions.push(r.body.decisionId);
            })
          : kind === 'feedback'
            ? post('/v1/feedback', { decisionId: pick(), reward: Math.random() }).then((r) => (r.status === 202 ? feedbackAccepted++ : rejected++))
            : post('/v1/energy', { decisionId: pick(), joules: 5 + Math.random() * 50, outputTokens: 200 }).then((r) =>
                r.status === 202 ? energyAccepted++ : rejected++,
              );
      inflight.push(p.catch(() => rejected++));
    };
    // Open loop: every 10 ms, send what the rates owe since the start.
    const t0 = performance.now();
    const owed = { route: 0, feedback: 0, energy: 0 };
    const rates = { route: ROUTES, feedback: FEEDBACK, energy: ENERGY };
    while (performance.now() - t0 < SECONDS * 1000) {
      const elapsed = (performance.now() - t0) / 1000;
      for (const k of ['route', 'feedback', 'energy'] as const) while (owed[k] < Math.floor(rates[k] * elapsed)) fire(k, owed[k]++);
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(inflight);
    const stoppedAt = performance.now();
    const cpu = { api: samplers.api(), worker: samplers.worker(), redis: samplers.redis(), postgres: samplers.postgres() };
    const stats = async () => await svc.call('GET', '/admin/policies/ev/stats');
    // Feedback and energy counted by the policy once learnt (energy readings of routed decisions).
    for (;;) {
      const s = await stats();
      if (s.feedback >= feedbackAccepted && s.energyReadings >= energyAccepted) break;
      if (performance.now() - stoppedAt > 60_000) throw new Error(`not learnt within 60 s: ${JSON.stringify({ s, feedbackAccepted, energyAccepted })}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const learntAfterMs = performance.now() - stoppedAt;
    const calls = [...(await commandCalls())].map(([c, n]): [string, number] => [c, (n - (callsBefore.get(c) ?? 0)) / sent]);
    const redisCommands = {
      perEvent: calls.reduce((s, [, n]) => s + n, 0),
      top: calls.sort((a, b) => b[1] - a[1]).slice(0, 6),
      jobs: calls.find(([c]) => c === 'lpush')?.[1] ?? 0,
    };
    const per = (s: number) => (s * 1000) / sent;
    const total = cpu.api + cpu.worker + cpu.redis + cpu.postgres;
    return {
      label,
      events: sent,
      cpuMsPerEvent: { api: per(cpu.api), worker: per(cpu.worker), redis: per(cpu.redis), postgres: per(cpu.postgres), total: per(total) },
      route: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: quantile(latencies, 1) },
      learntAfterMs,
      rejected,
      redisCommands,
    };
  } finally {
    await close();
    await svc.stop();
  }
}

const fmt = (r: RunResult) => {
  const c = r.cpuMsPerEvent;
  return (
    `${r.label}: ${r.events} events, CPU ${c.total.toFixed(3)} ms/event (api ${c.api.toFixed(3)}, worker ${c.worker.toFixed(3)}, ` +
    `Redis ${c.redis.toFixed(3)}, Postgres ${c.postgres.toFixed(3)}); route p50 ${r.route.p50.toFixed(1)} ms, p99 ${r.route.p99.toFixed(1)} ms, ` +
    `max ${r.route.max.toFixed(1)} ms; all learnt ${r.learntAfterMs.toFixed(0)} ms after the load stopped; ${r.rejected} not accepted; ` +
    `queue jobs ${r.redisCommands.jobs.toFixed(3)}/event; Redis commands ${r.redisCommands.perEvent.toFixed(2)}/event (${r.redisCommands.top.map(([c, n]) => `${c} ${n.toFixed(2)}`).join(', ')})`
  );
};

console.error(`events bench: ${ROUTES} routes/s + ${FEEDBACK} feedback/s + ${ENERGY} energy/s for ${SECONDS} s, K = 16, d = 64`);
const single = await run('one job per event', 3911, { INGEST_GROUP_COMMIT_MS: '-1' });
console.log(fmt(single));
const grouped = await run('group commit', 3912, {});
console.log(fmt(grouped));
console.log(
  `ratio group/single: CPU per event ${(grouped.cpuMsPerEvent.total / single.cpuMsPerEvent.total).toFixed(3)}, ` +
    `route p99 ${(grouped.route.p99 / single.route.p99).toFixed(3)}`,
);
