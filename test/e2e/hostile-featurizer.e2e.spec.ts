import { ADMIN_KEY, client, eventually, freshEnvironment, REDIS_URL } from '../support/harness.js';
import { spawnService } from '../support/private-services.js';
import { ClientStalls, type Sample } from '../support/traffic.js';

/**
 * A route request whose text is built to make the featurizer backtrack must not hold the api's one thread: while
 * it is featurized, /health/live keeps answering promptly: a blocked thread shows as the latency of the liveness
 * probes in flight. The api is the built one in a child process, and the time a pause of this test process (a
 * collection of the test runner's heap) overlapped a probe is taken out of it: it measured the client, not the api.
 *
 * The text is 1,000,000 characters (the longest `input`): 200 stretches of 4,999 blank lines, each closed by an
 * 'x'. An earlier multiple-choice expression rescanned a stretch from each of its line breaks: about 10 s of
 * blocked thread for this text on a loaded CI machine; every feature is now one linear pass. As JSON every newline takes two bytes, so the body limit is raised to 4 MiB for the
 * text to reach the featurizer at all, as a deployment with a larger BODY_LIMIT_BYTES lets it.
 */
const STRETCH = `${'\n'.repeat(4999)}x`;
const HOSTILE_INPUT = STRETCH.repeat(200);
/**
 * Slowest liveness probe allowed while the request is handled. The probes also wait while this one thread takes in
 * and parses the 2 MB body: 15-90 ms for plain text of the same size on a loaded 2-core machine. The quadratic
 * featurizer blocked it for about 10 s.
 */
const WORST_HEALTH_MS = 500;

describe('hostile text against the featurizer', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Awaited<ReturnType<typeof spawnService>>;
  let admin: ReturnType<typeof client>;

  beforeAll(async () => {
    env = await freshEnvironment('hostilefz');
    const vars = { DATABASE_URL: env.databaseUrl, REDIS_URL, REDIS_PREFIX: env.prefix, ADMIN_API_KEY: ADMIN_KEY };
    svc = await spawnService(vars, { BODY_LIMIT_BYTES: String(4 * 1024 * 1024) });
    admin = client(svc.url);
    for (const m of ['m1', 'm2']) expect((await admin.put(`/admin/models/${m}`, { energy: { joulesPerOutputToken: 0.1 } })).status).toBe(200);
    expect((await admin.put('/admin/policies/hostile', { algorithm: 'linucb', arms: ['m1', 'm2'] })).status).toBe(201);
    await eventually(async () => (await admin.post('/v1/route', { policy: 'hostile', input: 'warm-up' })).status === 200);
  });

  afterAll(async () => {
    svc?.kill();
    await env?.drop();
  });

  /** Runs `work` while probing /health/live back to back; returns its result and the slowest probe's latency. */
  async function whileProbing<T>(work: () => Promise<T>): Promise<{ result: T; worstMs: number; probes: number }> {
    let done = false;
    const samples: Sample[] = [];
    const probe = async () => {
      while (!done) {
        const at = performance.now();
        const res = await fetch(`${svc.url}/health/live`);
        await res.text();
        expect(res.status).toBe(200);
        samples.push({ at, ms: performance.now() - at, status: res.status });
      }
    };
    (globalThis as { gc?: () => void }).gc?.(); // no collection of this process's heap is due while it measures
    const stalls = new ClientStalls(20, () => performance.now()).start();
    const probing = probe();
    await new Promise((r) => setTimeout(r, 50)); // probes are in flight before the request arrives
    let result: T;
    try {
      result = await work();
    } finally {
      done = true;
      await probing; // the probe in flight during the request counts too
      stalls.stop();
    }
    const seen = stalls.attributable(samples);
    return { result, worstMs: Math.max(0, ...seen.map((s) => s.ms)), probes: seen.length };
  }

  it('a 1,000,000-character input of blank lines is routed while /health/live stays prompt', async () => {
    expect(HOSTILE_INPUT.length).toBe(1_000_000);
    const body = JSON.stringify({ policy: 'hostile', input: HOSTILE_INPUT });
    const { result, worstMs, probes } = await whileProbing(() => admin.post('/v1/route', body));
    expect(result.status).toBe(200);
    expect(['m1', 'm2']).toContain(result.body.model);
    expect(probes).toBeGreaterThan(0);
    expect(worstMs).toBeLessThan(WORST_HEALTH_MS);
  }, 120_000);

  it('the same text as chat messages is routed while /health/live stays prompt', async () => {
    const messages = Array.from({ length: 200 }, (_, i) => ({
      role: i === 0 ? 'system' : 'user',
      content: i % 2 ? STRETCH : [{ type: 'text', text: STRETCH }],
    }));
    const body = JSON.stringify({ policy: 'hostile', messages });
    const { result, worstMs, probes } = await whileProbing(() => admin.post('/v1/route', body));
    expect(result.status).toBe(200);
    expect(probes).toBeGreaterThan(0);
    expect(worstMs).toBeLessThan(WORST_HEALTH_MS);
    // Still serving ordinary traffic afterwards.
    expect((await admin.post('/v1/route', { policy: 'hostile', input: 'Which is right?\nA. red\nB. blue' })).status).toBe(200);
  }, 120_000);
});
