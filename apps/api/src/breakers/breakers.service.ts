import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CONFIG, Logger, REDIS, type RedisClient } from '@app/infra';
import { type BreakerInfo, type BreakerSettings, BreakerStore } from '@app/store';
import { type ApiEnv } from '../config.js';

const POLL_MS = 500;

/** Leave to call a model (BreakerService.admit); `probe`: when this call holds its breaker's half-open probe, granted then. */
export interface BreakerPass {
  probe: number | null;
}

/**
 * This replica's view of the per-model circuit breakers (state in Redis, shared by all replicas, polled every
 * 500 ms). Open models leave routing until their cool-down passes; then the first request that routes to one
 * claims the single half-open probe (breaker-1.lua), and its outcome closes or re-opens the breaker.
 */
@Injectable()
export class BreakerService implements OnModuleInit, OnApplicationShutdown {
  private states = new Map<string, BreakerInfo>();
  private readonly store: BreakerStore;
  private timer: NodeJS.Timeout | null = null;
  readonly settings: BreakerSettings;
  private readonly log: Logger;

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
   * May this call use `model`? Closed: yes; open past its cool-down: only the caller that wins the probe. null: no;
   * else a pass, which holds the half-open probe when `probe` is set: its caller reports the outcome (success,
   * failure) or, when the call ended without telling whether the model works, releases it.
   */
  async admit(model: string): Promise<BreakerPass | null> {
    if (this.state(model).state !== 'open') return { probe: null };
    const now = Date.now();
    try {
      const answer = await this.store.probe(model, this.settings, now);
      return answer === 'open' ? null : { probe: answer === 'probe' ? now : null };
    } catch {
      return null;
    }
  }

  /**
   * A probe that ended without a verdict frees its slot for the next caller (nothing for a pass without one). The
   * state does not change, so this replica's view is not read again.
   */
  async release(model: string, pass: BreakerPass): Promise<void> {
    if (pass.probe === null) return;
    try {
      await this.store.release(model, this.settings, pass.probe);
    } catch (err) {
      this.log.warn('breaker probe not released', { model, error: (err as Error).message });
    }
  }

  async success(model: string): Promise<void> {
    if (this.state(model).state === 'closed' && this.state(model).failures === 0) return;
    await this.record(() => this.store.success(model, this.settings), model);
  }

  /** A failed call under `pass`: an open breaker counts only its half-open probe's failure. */
  async failure(model: string, pass: BreakerPass): Promise<void> {
    await this.record(() => this.store.failure(model, this.settings, Date.now(), pass.probe), model);
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
