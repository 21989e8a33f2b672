import { createRng } from '@app/bandits';
import { type client } from './harness.js';
import { type Accepted, type Routed } from './fold.js';

type Client = ReturnType<typeof client>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One answered call: when it started (ms since the epoch), how long it took, and its status. */
export interface Sample {
  at: number;
  ms: number;
  status: number;
}

export function p99(samples: readonly Sample[]): number {
  const s = samples.map((x) => x.ms).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(0.99 * s.length))];
}
export const between = (samples: readonly Sample[], from: number, to: number) => samples.filter((s) => s.at >= from && s.at < to);

/**
 * Pauses of the measuring process itself (garbage collection of a large test-runner heap, the scheduler giving
 * its core away): a 5 ms timer that fires more than `minMs` late marks one. The part of a latency sample such a
 * pause overlapped measured the client, not the service: `attributable` takes it out.
 */
export class ClientStalls {
  readonly stalls: { from: number; to: number }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly minMs = 20,
    /** The clock the samples' `at` is read from. */
    private readonly now: () => number = Date.now,
  ) {}

  start(): this {
    let last = this.now();
    this.timer = setInterval(() => {
      const now = this.now();
      if (now - last > 5 + this.minMs) this.stalls.push({ from: last, to: now });
      last = now;
    }, 5);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The samples with the time client pauses overlapped them taken out (that time measured the client, not the service). */
  attributable(samples: readonly Sample[]): Sample[] {
    return samples.map((s) => {
      let paused = 0;
      for (const p of this.stalls) paused += Math.max(0, Math.min(p.to, s.at + s.ms) - Math.max(p.from, s.at));
      return paused > 0 ? { ...s, ms: Math.max(0, s.ms - paused) } : s;
    });
  }
}

/**
 * Steady traffic for the fault tests, on a policy with caller features: `rate` routes per second, and for each
 * answered route a reward event with the caller's own id (the ids are `<prefix>ev<n>`, so several generators
 * can run at once). A reward answered 503 is retried (same id) after the
 * Retry-After the api asked for, capped at `retryCapMs`, until it is accepted, as a well-behaved client does.
 * Every call is sampled; `routed` and `accepted` are what the state must fold.
 */
export class Traffic {
  readonly routed: Routed[] = [];
  readonly accepted: (Accepted & { eventId: string })[] = [];
  readonly routes: Sample[] = [];
  readonly feedback: Sample[] = [];
  /** Pauses of this process while it measured (see ClientStalls). */
  readonly clientStalls = new ClientStalls();
  /** Answers that were neither the expected success nor a 503 with Retry-After (each is a failure). */
  readonly unexpected: string[] = [];
  retriesAfter503 = 0;
  lastAcceptedAt = 0;
  private running = true;
  /** Routes in flight (at most 64) and feedback exchanges in flight (retries included; not capped). */
  private readonly inflight = new Set<Promise<void>>();
  private readonly exchanges = new Set<Promise<void>>();
  private seq = 0;
  private readonly rng;
  private loop: Promise<void> | null = null;

  private readonly rate: number;
  private readonly retryCapMs: number;
  private readonly feedbackVia: Client;

  constructor(
    private readonly api: Client,
    private readonly policy: string,
    private readonly dim: number,
    seed: number,
    /** rate: routes per second; retryCapMs: longest wait before retrying a 503; feedbackVia: another replica. */
    opts: { rate?: number; retryCapMs?: number; feedbackVia?: Client } = {},
    private readonly idPrefix = `s${seed}`,
  ) {
    this.rng = createRng(seed);
    this.rate = opts.rate ?? 100;
    this.retryCapMs = opts.retryCapMs ?? 1000;
    this.feedbackVia = opts.feedbackVia ?? api;
  }

  start(): this {
    const t0 = Date.now();
    let sent = 0;
    this.clientStalls.start();
    this.loop = (async () => {
      while (this.running) {
        const due = Math.floor(((Date.now() - t0) / 1000) * this.rate);
        for (; sent < due && this.inflight.size < 64; sent++) this.track(this.inflight, this.one());
        await sleep(5);
      }
    })();
    return this;
  }

  /** Stops sending new routes and waits until every started exchange (retries included) has finished. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    while (this.inflight.size + this.exchanges.size > 0) await Promise.all([...this.inflight, ...this.exchanges]);
    this.clientStalls.stop();
  }

  private track(set: Set<Promise<void>>, p: Promise<void>): void {
    const q = p.catch((e: Error) => void this.unexpected.push(`exception: ${e.message}`)).finally(() => set.delete(q));
    set.add(q);
  }

  /** One route; its feedback goes on in the background (a client's retries must not hold up its routing). */
  private async one(): Promise<void> {
    const x = Array.from({ length: this.dim }, () => this.rng.normal());
    const at = Date.now();
    const r = await this.api.post('/v1/route', { policy: this.policy, features: x });
    this.routes.push({ at, ms: Date.now() - at, status: r.status });
    if (r.status !== 200) return void this.unexpected.push(`route ${r.status}`);
    this.routed.push({ id: r.body.decisionId, arm: r.body.model, x });
    const event = { eventId: `${this.idPrefix}ev${this.seq++}`, decisionId: r.body.decisionId as string, reward: this.rng.next() };
    this.track(this.exchanges, this.feedbackUntilAccepted(event));
  }

  private async feedbackUntilAccepted(event: { eventId: string; decisionId: string; reward: number }): Promise<void> {
    for (;;) {
      const t = Date.now();
      const f = await this.feedbackVia.post('/v1/feedback', event);
      this.feedback.push({ at: t, ms: Date.now() - t, status: f.status });
      // "duplicate" after a 503 means an earlier attempt was queued after all: accepted as well.
      if (f.status === 202 && (f.body.status === 'accepted' || f.body.status === 'duplicate')) {
        this.accepted.push(event);
        this.lastAcceptedAt = Date.now();
        return;
      }
      const retryAfter = Number(f.headers.get('retry-after'));
      if (f.status !== 503 || !(retryAfter > 0)) return void this.unexpected.push(`feedback ${f.status} ${JSON.stringify(f.body).slice(0, 200)}`);
      this.retriesAfter503++;
      await sleep(Math.min(retryAfter * 1000, this.retryCapMs));
    }
  }
}
