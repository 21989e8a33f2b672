import { performance } from 'node:perf_hooks';
import { cpuSeconds, rssMb } from './support/process-cpu.js';
import { startBuiltService } from './support/service.js';

/**
 * What a stream of feedback on an order-dependent policy (TI-UCB; FGTS.CDB reads the same way) costs every api
 * replica, against the same stream on a LinUCB policy in the same run: the api keeps such a policy's state from the
 * learned events in Postgres, so it reads them itself. Offers RATE feedback events/s (batches of 500, aggregation
 * `all`, 8 arms) for SECONDS to each policy in turn, then watches 35 s more (the api re-reads recent events to
 * catch late commits). Prints the api's CPU per second during and after the stream, and the latency of sequential
 * routes of a third policy meanwhile (what other tenants feel), and the api's resident memory at the end of each
 * stream (TI-UCB keeps a bounded part of each arm's observations).
 * Usage: npm run bench:sequential [-- rate seconds]   (needs local Redis and Postgres)
 */
const [rate = 2000, seconds = 20] = process.argv.slice(2).map(Number);
const BATCH = 500;
const AFTER_S = 35;
const svc = await startBuiltService(3921);
const arms = Array.from({ length: 8 }, (_, i) => `m${i}`);

async function decisionsOf(policy: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i += 100)
    out.push(
      ...(await Promise.all(
        Array.from({ length: 100 }, (_, k) =>
          svc.call('POST', '/v1/route', { policy, input: `question ${i + k} about item ${(i + k) % 97}` }).then((r) => r.decisionId as string),
        ),
      )),
    );
  return out;
}

/** Sequential routes of the bystander policy until `until()`; latencies in ms. */
async function bystander(until: () => boolean): Promise<number[]> {
  const lat: number[] = [];
  while (!until()) {
    const t = performance.now();
    await svc.call('POST', '/v1/route', { policy: 'bystander', input: 'a question from another tenant' });
    lat.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  return lat.sort((a, b) => a - b);
}

const pct = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? NaN;

async function stream(policy: string, decisions: string[]) {
  const cpu0 = cpuSeconds(svc.pids.api);
  const t0 = performance.now();
  let done = false;
  const during = bystander(() => done);
  let sent = 0;
  let inflight = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (sent + BATCH <= due && inflight < 8) {
      const events = Array.from({ length: BATCH }, (_, k) => ({ decisionId: decisions[(sent + k) % decisions.length], reward: ((sent + k) % 5) / 4 }));
      sent += BATCH;
      inflight++;
      void svc.call('POST', '/v1/feedback/batch', { events }).finally(() => inflight--);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  while (inflight > 0) await new Promise((r) => setTimeout(r, 10));
  const t1 = performance.now();
  const cpu1 = cpuSeconds(svc.pids.api);
  const rss = rssMb(svc.pids.api);
  done = true;
  const latDuring = await during;
  done = false;
  const after = bystander(() => performance.now() - t1 > AFTER_S * 1000);
  const latAfter = await after;
  const cpu2 = cpuSeconds(svc.pids.api);
  const t2 = performance.now();
  return {
    policy,
    sent,
    rss,
    cpuDuring: (cpu1 - cpu0) / ((t1 - t0) / 1000),
    cpuAfter: (cpu2 - cpu1) / ((t2 - t1) / 1000),
    during: { p50: pct(latDuring, 0.5), p99: pct(latDuring, 0.99) },
    after: { p50: pct(latAfter, 0.5), p99: pct(latAfter, 0.99) },
  };
}

try {
  for (const m of arms) await svc.call('PUT', `/admin/models/${m}`, {});
  await svc.call('PUT', '/admin/policies/plain', { algorithm: 'linucb', arms, feedback: { aggregation: 'all' } });
  await svc.call('PUT', '/admin/policies/trend', { algorithm: 'ti-ucb', arms, feedback: { aggregation: 'all' } });
  await svc.call('PUT', '/admin/policies/bystander', { algorithm: 'linucb', arms });
  await new Promise((r) => setTimeout(r, 500));
  const plainDecisions = await decisionsOf('plain', 5000);
  const trendDecisions = await decisionsOf('trend', 5000);
  console.error(`sequential bench: ${rate} feedback events/s for ${seconds} s on each policy, then ${AFTER_S} s watched`);
  const rows = [];
  for (const [policy, decisions] of [
    ['plain', plainDecisions],
    ['trend', trendDecisions],
  ] as const) {
    const r = await stream(policy, decisions);
    rows.push(r);
    console.log(
      `${policy === 'plain' ? 'linucb' : 'ti-ucb'}: ${r.sent} events | api CPU ${(r.cpuDuring * 1000).toFixed(0)} ms/s during, ${(r.cpuAfter * 1000).toFixed(0)} ms/s in the ${AFTER_S} s after | ` +
        `bystander route p50/p99 ${r.during.p50.toFixed(1)}/${r.during.p99.toFixed(1)} ms during, ${r.after.p50.toFixed(1)}/${r.after.p99.toFixed(1)} ms after | ` +
        `api RSS ${r.rss.toFixed(0)} MB at the end of the stream`,
    );
  }
  const [plain, trend] = rows;
  console.log(
    `ti-ucb / linucb: api CPU ${(trend.cpuDuring / plain.cpuDuring).toFixed(2)}x during, ${(trend.cpuAfter / plain.cpuAfter).toFixed(2)}x after; ` +
      `bystander p99 ${(trend.during.p99 / plain.during.p99).toFixed(2)}x during`,
  );
} finally {
  await svc.stop();
}
