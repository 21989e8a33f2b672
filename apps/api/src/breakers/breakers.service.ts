import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CONFIG, Logger, REDIS, type RedisClient } from '@app/infra';
import { type BreakerInfo, type BreakerSettings, BreakerStore } from '@app/store';
import { type ApiEnv } from '../config.js';

const POLL_MS = 500;

/**
 * The router's own probe of a model (proxy/health-check.ts): true, it works; false, it fails; null, no verdict (it
 * cannot be called as configured).
 */
export type HealthCheck = () => Promise<boolean | null>;

/**
 * This replica's view of the per-model circuit breakers (state in Redis, shared by all replicas, polled every
 * 500 ms). Open models leave routing until their cool-down passes; then the first request that wants one claims
 * the single half-open probe (breaker-1.lua) and runs the router's own health check of it, whose outcome closes
 * or re-opens the breaker. No tenant's call is ever the probe: a caller whose calls fail on purpose cannot keep a
 * healthy model out by winning every probe, and an open breaker counts no tenant's failure.
 */
@Injectable()
export class BreakerService implements OnModuleInit, OnApplicationShutdown {
  private states = new Map<string, BreakerInfo>();
  private readonly store: BreakerStore;
  private timer: NodeJS.Timeout | null = null;
  readonly settings: BreakerSettings;
  private readonly log: Logger;

  /** Health checks this replica ran, per breaker and outcome (router_breaker_probes_total). */
  readonly probeCounts = new Map<string, Record<'up' | 'down' | 'none', number>>();

  constructor(@Inject(REDIS) redis: RedisClient, @Inject(CONFIG) env: ApiEnv, logger: Logger) {
    this.store = new BreakerStore(redis, env.REDIS_PREFIX);
    this.settings = { threshold: env.BREAKER_THRESHOLD, cooldownMs: env.BREAKER_COOLDOWN_MS, probeTtlMs: Math.max(env.PROXY_TIMEOUT_MS, 1000) };
    this.log = logger.child('breakers');
  }

  onModuleInit(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), POLL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    try {
      this.states = await this.store.all();
    } catch {
      // Redis away: keep the last view.
    }
  }

  /** Open and still cooling down: not a routing candidate. */
  excluded(model: string, now = Date.now()): boolean {
    const s = this.states.get(model);
    return s?.state === 'open' && now - s.openedAt < this.settings.cooldownMs;
  }

  state(model: string): BreakerInfo {
    return this.states.get(model) ?? { state: 'closed', failures: 0, openedAt: 0 };
  }

  /**
   * May this call use `model`? Closed: yes. Open: no, except for the caller that wins the half-open probe past the
   * cool-down: it runs `check` (the router's own request, not the caller's) and may go on if that closed the
   * breaker. Other callers meanwhile are refused at once (they fall back to other models).
   */
  async admit(model: string, check: HealthCheck): Promise<boolean> {
    if (this.state(model).state !== 'open') return true;
    const grantedAt = Date.now();
    let answer: string;
    try {
      answer = await this.store.probe(model, this.settings, grantedAt);
    } catch {
      return false;
    }
    if (answer !== 'probe') return answer === 'closed';
    return this.probe(model, grantedAt, check);
  }

  /** Runs the health check of the probe granted at `grantedAt`: closes the breaker (true) or re-opens it. */
  private async probe(model: string, grantedAt: number, check: HealthCheck): Promise<boolean> {
    const verdict = await check().catch(() => false);
    const counts = this.probeCounts.get(model) ?? { up: 0, down: 0, none: 0 };
    counts[verdict === null ? 'none' : verdict ? 'up' : 'down']++;
    this.probeCounts.set(model, counts);
    if (verdict === true) await this.record(() => this.store.success(model, this.settings), model);
    else if (verdict === false) await this.record(() => this.store.failure(model, this.settings, Date.now(), grantedAt), model);
    else
      await this.store
        .release(model, this.settings, grantedAt)
        .catch((err: Error) => this.log.warn('breaker probe not released', { model, error: err.message }));
    return verdict === true;
  }

  async success(model: string): Promise<void> {
    if (this.state(model).state === 'closed' && this.state(model).failures === 0) return;
    await this.record(() => this.store.success(model, this.settings), model);
  }

  /**
   * A failed call, let through at `admittedAt`: counted while the breaker is closed, unless the call was admitted
   * before its last close (an open breaker counts only its health check's failure).
   */
  async failure(model: string, admittedAt: number): Promise<void> {
    await this.record(() => this.store.failure(model, this.settings, Date.now(), null, admittedAt), model);
  }

  private async record(op: () => Promise<string>, model: string): Promise<void> {
    try {
      const state = await op();
      const prev = this.states.get(model)?.state ?? 'closed';
      if (state !== prev) this.log.warn('breaker changed state', { model, from: prev, to: state });
      await this.refresh();
    } catch (err) {
      this.log.warn('breaker state not written', { model, error: (err as Error).message });
    }
  }
}
