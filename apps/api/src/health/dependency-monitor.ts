import { type Logger } from '@app/infra';

/** One backing service's check: resolves (optionally with details, e.g. queue counts) when it answers. */
export type Probe = () => Promise<Record<string, unknown> | void>;

export interface DependencyStatus {
  /** Whether the last check succeeded; null before the first check has finished. */
  ok: boolean | null;
  /** How long the last check took (or waited before giving up). */
  latencyMs: number | null;
  /** When the last check finished. */
  checkedAt: number | null;
  /** When the current state (ok or not) began: the end of the first check that found it. */
  since: number | null;
  lastOkAt: number | null;
  /** The most recent failure, kept after recovery (so a flapping dependency shows what happened). */
  lastError: { message: string; at: number } | null;
  consecutiveFailures: number;
  /** What the last successful check returned (e.g. queue counts). */
  details: Record<string, unknown> | null;
}

export interface MonitorOptions {
  /** A check is started this often (ms). */
  intervalMs: number;
  /** A check that has not answered by then counts as failed (ms). */
  timeoutMs: number;
  /** Clock, for the unit tests. */
  now?: () => number;
}

const blank = (): DependencyStatus => ({
  ok: null,
  latencyMs: null,
  checkedAt: null,
  since: null,
  lastOkAt: null,
  lastError: null,
  consecutiveFailures: 0,
  details: null,
});

/**
 * Checks each backing service in the background (every `intervalMs`) and keeps its status, so readiness probes
 * answer from memory at once, cost the backing services nothing per probe, and never wait for a hanging
 * dependency. A check that does not answer within `timeoutMs` fails; while a dependency's previous call is still
 * pending (a black-holed host: the driver waits for its own connect timeout) no second call is started, the check
 * fails with how long the pending one has waited, so a dead host cannot pile up calls in a connection pool.
 * Transitions are logged once each (warn when a dependency goes away, info when it is back).
 */
export class DependencyMonitor<N extends string> {
  private readonly status: Record<N, DependencyStatus>;
  private readonly pending = new Map<N, { since: number; promise: Promise<unknown> }>();
  private round: Promise<void> | null = null;
  private roundEndedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(
    private readonly probes: Record<N, Probe>,
    private readonly opts: MonitorOptions,
    private readonly log?: Logger,
  ) {
    this.now = opts.now ?? Date.now;
    this.status = Object.fromEntries(Object.keys(probes).map((n) => [n, blank()])) as Record<N, DependencyStatus>;
  }

  start(): void {
    if (this.timer) return;
    void this.check();
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The status as of the last check; waits for the first round when none has finished yet. */
  async snapshot(): Promise<Record<N, DependencyStatus>> {
    if (Object.values<DependencyStatus>(this.status).some((s) => s.checkedAt === null)) await this.check();
    return this.copy();
  }

  /**
   * A fresh check of every dependency (at most `timeoutMs`), shared by concurrent callers; a round younger than
   * `maxAgeMs` is reused, so callers polling in a loop cannot turn into a load on the backing services.
   */
  async checkNow(maxAgeMs = 250): Promise<Record<N, DependencyStatus>> {
    if (this.round !== null || this.roundEndedAt === 0 || this.now() - this.roundEndedAt >= maxAgeMs) await this.check();
    return this.copy();
  }

  private copy(): Record<N, DependencyStatus> {
    return Object.fromEntries(
      Object.entries<DependencyStatus>(this.status).map(([n, s]) => [n, { ...s, lastError: s.lastError && { ...s.lastError } }]),
    ) as Record<N, DependencyStatus>;
  }

  /** Runs one round (or joins the one in flight). */
  check(): Promise<void> {
    this.round ??= this.runRound().finally(() => (this.round = null));
    return this.round;
  }

  private async runRound(): Promise<void> {
    await Promise.all((Object.keys(this.probes) as N[]).map((n) => this.checkOne(n)));
    this.roundEndedAt = this.now();
  }

  private async checkOne(name: N): Promise<void> {
    const start = this.now();
    const busy = this.pending.get(name);
    if (busy) {
      const waited = start - busy.since;
      return this.record(name, waited, null, `previous check still unanswered after ${waited} ms`);
    }
    const call = Promise.resolve().then(() => this.probes[name]());
    this.pending.set(name, { since: start, promise: call });
    void call.then(
      () => this.pending.delete(name),
      () => this.pending.delete(name),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
    });
    try {
      const details = await Promise.race([call, timeout]);
      this.record(name, this.now() - start, details ?? null, null);
    } catch (err) {
      this.record(name, this.now() - start, null, err instanceof Error ? err.message || err.name : String(err));
    } finally {
      clearTimeout(timer);
    }
  }

  private record(name: N, latencyMs: number, details: Record<string, unknown> | null, error: string | null): void {
    const s = this.status[name];
    const at = this.now();
    const ok = error === null;
    if (s.ok !== ok) {
      if (!ok) this.log?.warn('dependency unavailable', { dependency: name, error });
      else if (s.ok === false) this.log?.info('dependency available again', { dependency: name, downForMs: s.since === null ? null : at - s.since });
      s.since = at;
    }
    s.ok = ok;
    s.latencyMs = latencyMs;
    s.checkedAt = at;
    if (ok) {
      s.lastOkAt = at;
      s.consecutiveFailures = 0;
      s.details = details;
    } else {
      s.lastError = { message: error, at };
      s.consecutiveFailures++;
    }
  }
}
