import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CONFIG, Logger, REDIS, type RedisClient } from '@app/infra';
import { type BreakerInfo, type BreakerSettings, BreakerStore, type FailureAnswer } from '@app/store';
import { type ApiEnv } from '../config.js';

const POLL_MS = 500;

/**
 * The router's own probe of a model (proxy/health-check.ts): true, it works; false, it fails; null, no verdict (it
 * cannot be called as configured).
 */
export type HealthCheck = () => Promise<boolean | null>;

/** A breaker as the admin API shows it: no tenant named, only how many are out of the model now. */
export type BreakerView = Omit<BreakerInfo, 'tenants' | 'checking'> & { tenantsOut?: number; checking?: true };

/**
 * This replica's view of the per-model circuit breakers (state in Redis, shared by all replicas, polled every
 * 500 ms). Failures are counted per model and per tenant; when either count reaches the threshold, the replica of
 * the failing call runs the router's own health check of the model in the background (breaker-1.lua grants one at
 * a time), and meanwhile a tenant whose own count asked for it keeps off the model: a model that
 * fails it opens for everyone, while a model that answers it stays in, and only the tenant whose own calls kept
 * failing is out of it for a cool-down. So a caller that makes its own calls fail (parameters an upstream answers with 5xx,
 * prompts slower than the limits) cannot take a healthy model away from other tenants.
 * Open models leave routing until their cool-down passes; then the first request that wants one claims the single
 * half-open probe and runs the same health check, whose outcome closes or re-opens the breaker. No tenant's call is
 * ever the probe, and an open breaker counts no tenant's failure.
 */
@Injectable()
export class BreakerService implements OnModuleInit, OnApplicationShutdown {
  private states = new Map<string, BreakerInfo>();
  private readonly store: BreakerStore;
  private timer: NodeJS.Timeout | null = null;
  readonly settings: BreakerSettings;
  private readonly log: Logger;

  /** Half-open probes this replica ran, per breaker and outcome (router_breaker_probes_total). */
  readonly probeCounts = new Map<string, Record<'up' | 'down' | 'none', number>>();
  /** Checks at the threshold this replica ran, per breaker and outcome (router_breaker_checks_total). */
  readonly checkCounts = new Map<string, Record<'up' | 'down' | 'none', number>>();
  /** Tenants this replica's checks put out of a model, per breaker (router_breaker_tenant_outs_total). */
  readonly tenantOuts = new Map<string, number>();

  constructor(@Inject(REDIS) redis: RedisClient, @Inject(CONFIG) env: ApiEnv, logger: Logger) {
    this.store = new BreakerStore(redis, env.REDIS_PREFIX);
    // A probe or check is the router's own request, out of time after PROXY_TTFT_TIMEOUT_MS: its slot is held a
    // second longer, so that a verdict lost with its replica delays the next one by that much only.
    this.settings = { threshold: env.BREAKER_THRESHOLD, cooldownMs: env.BREAKER_COOLDOWN_MS, probeTtlMs: env.PROXY_TTFT_TIMEOUT_MS + 1000 };
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

  /** Open and still cooling down, or `tenant` out of it: not a routing candidate (for that tenant). */
  excluded(model: string, tenant: string | null = null, now = Date.now()): boolean {
    const s = this.states.get(model);
    return (s?.state === 'open' && now - s.openedAt < this.settings.cooldownMs) || this.out(model, tenant, now);
  }

  /**
   * Whether `tenant` keeps off `model` for now: its own failures put it out (the model answered the router), or a
   * check of the model is under way that its own failures asked for. A check for the model's count alone keeps no
   * one off: tenants taking turns to fail could otherwise keep everyone off a healthy model, one check a second.
   */
  out(model: string, tenant: string | null, now = Date.now()): boolean {
    const s = this.states.get(model);
    if (!s || tenant === null) return false;
    if (s.checking && s.checking.until > now && s.checking.tenant === tenant) return true;
    return (s.tenants?.[tenant]?.outUntil ?? 0) > now;
  }

  state(model: string, now = Date.now()): BreakerView {
    const s = this.states.get(model);
    if (!s) return { state: 'closed', failures: 0, openedAt: 0 };
    const out = Object.values(s.tenants ?? {}).filter((t) => t.outUntil > now).length;
    const checking = s.checking !== undefined && s.checking.until > now;
    return { state: s.state, failures: s.failures, openedAt: s.openedAt, ...(out > 0 ? { tenantsOut: out } : {}), ...(checking ? { checking } : {}) };
  }

  /**
   * May a call use `model` (its tenant not `out` of it)? Closed: yes. Open: no, except for the caller that wins the
   * half-open probe past the cool-down: it runs `check` (the router's own request, not the caller's) and may go on
   * if that closed the breaker. Other callers meanwhile are refused at once (they fall back to other models).
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
    const verdict = await this.check(model, check, this.probeCounts);
    if (verdict === true) await this.record(() => this.store.success(model, this.settings), model);
    else if (verdict === false) await this.record(() => this.store.failure(model, this.settings, Date.now(), grantedAt), model);
    else
      await this.store
        .release(model, this.settings, grantedAt)
        .catch((err: Error) => this.log.warn('breaker probe not released', { model, error: err.message }));
    return verdict === true;
  }

  /** The router's own health check of `model`, counted in `into`. */
  private async check(model: string, check: HealthCheck, into: BreakerService['probeCounts']): Promise<boolean | null> {
    // A local error says nothing of the model: no verdict.
    const verdict = await check().catch(() => null);
    const counts = into.get(model) ?? { up: 0, down: 0, none: 0 };
    counts[verdict === null ? 'none' : verdict ? 'up' : 'down']++;
    into.set(model, counts);
    return verdict;
  }

  /** A call of `tenant` that worked: clears the model's count of failures in a row, and the tenant's. */
  async success(model: string, tenant: string | null = null): Promise<void> {
    const s = this.states.get(model);
    if (!s || (s.state === 'closed' && s.failures === 0 && !(tenant !== null && s.tenants?.[tenant]?.failures))) return;
    await this.record(() => this.store.success(model, this.settings, Date.now(), tenant), model);
  }

  /**
   * A failed call of `tenant`, let through at `admittedAt`: counted while the breaker is closed, unless the call
   * was admitted before its last close or check (an open breaker counts only its health check's failure). When the
   * model's failures or the tenant's reach the threshold, answers 'check' and runs `check` in the background
   * before anything opens: the model fails it, and its breaker opens; it answers, and only that tenant is out of it
   * for a cool-down. The failed call does not wait for it (a hanging model would hold it for the check's timeout):
   * it moves on to its next candidate. Null when Redis did not take the failure.
   */
  async failure(model: string, admittedAt: number, tenant: string | null = null, check?: HealthCheck): Promise<FailureAnswer | null> {
    const at = Date.now();
    let answer: FailureAnswer;
    try {
      answer = await this.store.failure(model, this.settings, at, null, admittedAt, tenant);
    } catch (err) {
      this.log.warn('breaker state not written', { model, error: (err as Error).message });
      return null;
    }
    if (answer !== 'check') {
      await this.record(() => Promise.resolve(answer), model);
      return answer;
    }
    void this.verdict(model, at, tenant, check);
    // This replica keeps the tenant off the model from now on, not from its next poll.
    await this.refresh();
    return answer;
  }

  /** Runs the check a failure at `at` was granted and writes its verdict. */
  private async verdict(model: string, at: number, tenant: string | null, check?: HealthCheck): Promise<void> {
    const verdict = check ? await this.check(model, check, this.checkCounts) : false;
    await this.record(async () => {
      const after = await this.store.verdict(model, this.settings, at, verdict === null ? 'none' : verdict ? 'up' : 'down');
      if (after !== 'tenant') return after;
      this.tenantOuts.set(model, (this.tenantOuts.get(model) ?? 0) + 1);
      this.log.warn("a tenant's calls keep failing on a model that answers the router: that tenant is out of it for a cool-down", { model, tenant });
      return 'closed';
    }, model);
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
