import { startBuiltService } from './support/service.js';

/**
 * Feedback ingestion through POST /v1/feedback/batch (d = 64, 16 arms) into Redis state and Postgres.
 * Offers RATE events/s in batches of 500 for SECONDS, then reports: events accepted per second (202), events
 * learnt per second (counted in the policy's Redis statistics, i.e. persisted in Postgres first), and the lag
 * from a batch's 202 to the moment the statistics include it (p50/p99 over batches; polled every 100 ms). The api replicas see a new
 * state within REFRESH_INTERVAL_MS (200 ms) more.
 * Usage: npm run bench:ingest [-- rate seconds]
 */
const [rate = 6000, seconds = 60] = process.argv.slice(2).map(Number);
const BATCH = 500;
const svc = await startBuiltService(3903);
try {
  const arms = Array.from({ length: 16 }, (_, i) => `m${i}`);
  for (const m of arms) await svc.call('PUT', `/admin/models/${m}`, {});
  await svc.call('PUT', '/admin/policies/ingest', { algorithm: 'linucb', arms, feedback: { aggregation: 'all' } });
  await new Promise((r) => setTimeout(r, 500));
  // 20,000 decisions; feedback events then cycle over them ("all" aggregation learns every event).
  const decisions: string[] = [];
  const words = ['explain', 'solve', 'translate', 'write', 'code', 'poem', 'sum', 'list', 'why', 'compare'];
  for (let i = 0; i < 20_000; i += 100)
    decisions.push(
      ...(await Promise.all(
        Array.from({ length: 100 }, (_, k) =>
          svc
            .call('POST', '/v1/route', { policy: 'ingest', input: `${words[(i + k) % 10]} item ${i + k} of the benchmark set` })
            .then((r) => r.decisionId as string),
        ),
      )),
    );
  const learnt = async () => (await svc.call('GET', '/admin/policies/ingest/stats')).feedback as number;
  console.error(`ingest bench: offering ${rate} events/s in batches of ${BATCH} for ${seconds} s`);
  const pending: { upTo: number; at: number }[] = [];
  const lags: number[] = [];
  let sent = 0;
  let accepted = 0;
  let stop = false;
  const t0 = performance.now();
  const watcher = (async () => {
    while (!stop || pending.length > 0) {
      const n = await learnt();
      const now = performance.now();
      while (pending.length > 0 && pending[0].upTo <= n) lags.push(now - pending.shift()!.at);
      await new Promise((r) => setTimeout(r, 100));
      if (stop && performance.now() - t0 > (seconds + 120) * 1000) break;
    }
  })();
  let inflight = 0;
  const samples: string[] = [];
  let lastLog = t0;
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (sent + BATCH <= due && inflight < 16) {
      const events = Array.from({ length: BATCH }, (_, k) => ({ decisionId: decisions[(sent + k) % decisions.length], reward: ((sent + k) % 7) / 6 }));
      sent += BATCH;
      inflight++;
      void svc.call('POST', '/v1/feedback/batch', { events }).then((r) => {
        inflight--;
        const ok = (r.results as { status: string }[]).filter((x) => x.status === 'accepted').length;
        accepted += ok;
        pending.push({ upTo: accepted, at: performance.now() });
        pending.sort((a, b) => a.upTo - b.upTo);
      });
    }
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      const line = `  t=${((lastLog - t0) / 1000).toFixed(0)}s accepted ${accepted}, learnt ${await learnt()}`;
      samples.push(line);
      console.error(line);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const elapsed = (performance.now() - t0) / 1000;
  const learntAtEnd = await learnt();
  while (inflight > 0) await new Promise((r) => setTimeout(r, 10));
  stop = true;
  await watcher;
  const drainedAt = (performance.now() - t0) / 1000;
  lags.sort((a, b) => a - b);
  const q = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? NaN;
  console.log(
    `offered ${rate}/s for ${seconds}s: accepted ${accepted} (${(accepted / elapsed).toFixed(0)}/s); learnt by the end of the window ${learntAtEnd} (${(learntAtEnd / elapsed).toFixed(0)}/s); all learnt after ${drainedAt.toFixed(1)} s`,
  );
  console.log(
    `lag from 202 to learnt state, over ${lags.length} batches: p50 ${q(0.5).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms, max ${lags[lags.length - 1]?.toFixed(0)} ms (replicas see it ≤ 200 ms later)`,
  );
} finally {
  await svc.stop();
}
