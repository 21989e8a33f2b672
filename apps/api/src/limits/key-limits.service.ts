import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { type Principal } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG, Logger, REDIS, type RedisClient } from '@app/infra';
import { KeyLimitsStore } from '@app/store';
import { type ApiEnv } from '../config.js';
import { MetricsService } from '../observability/metrics.service.js';
import { InFlightLeases } from './in-flight-leases.js';
import { withinDeadline } from './deadline.js';
import { chargeFor, limitValues, limitWindows, retryAfterSeconds } from './windows.js';

/**
 * How long a limit check may wait for Redis before the request is let through, counted on a responsive event loop
 * (withinDeadline: up to 8 times as long while this replica's thread is held).
 */
export const LIMIT_CHECK_TIMEOUT_MS = 250;

const UNITS = {
  requestsPerMinute: 'requests per minute',
  tokensPerMinute: 'tokens per minute',
  usdPerDay: 'USD per UTC day',
  concurrentRequests: 'calls in flight',
  eventsPerMinute: 'events per minute',
} as const;

/** Ends an admitted call's hold on its key's calls in flight; safe to call more than once. */
export type EndCall = () => void;

/**
 * Per-key limits (`limits` on a key), enforced across replicas by counters in Redis (KeyLimitsStore): a request is
 * admitted or refused with 429 and Retry-After; tokens and USD are charged when a call's usage is known, so the
 * call that crosses a limit completes and the next requests are refused until the window ends. A limit on calls in
 * flight holds a lease from admission until the call ends (InFlightLeases).
 *
 * Fails open: when Redis errs or does not answer within LIMIT_CHECK_TIMEOUT_MS (withinDeadline), the request goes through (routing must
 * not stop because Redis did), counted in `router_key_limits_unenforced_total`.
 */
@Injectable()
export class KeyLimitsService implements OnApplicationShutdown {
  private readonly store: KeyLimitsStore;
  private readonly leases: InFlightLeases;
  private readonly log: Logger;
  private failures = 0;

  constructor(
    @Inject(REDIS) redis: RedisClient,
    @Inject(CONFIG) env: ApiEnv,
    private readonly metrics: MetricsService,
    @Inject(Logger) logger: Logger,
  ) {
    this.store = new KeyLimitsStore(redis, env.REDIS_PREFIX);
    this.log = logger.child('key-limits');
    this.leases = new InFlightLeases(this.store, (op, err) => this.unenforced(op, err));
  }

  /**
   * Admits one request of `caller`, or throws RATE_LIMITED (429 with Retry-After) naming the limit. When the key
   * limits its calls in flight, answers how to end this call's hold on one of them (null otherwise).
   */
  async admit(caller: Principal, now = Date.now()): Promise<EndCall | null> {
    const values = limitValues(caller.limits);
    if (!values) return null;
    const keyId = caller.keyId;
    const lease = values.concurrentRequests > 0 ? this.leases.take(keyId) : '';
    let ended = false;
    const end: EndCall | null = lease
      ? () => {
          if (!ended) this.leases.release(keyId, lease);
          ended = true;
        }
      : null;
    let refused;
    try {
      refused = await withinDeadline(this.store.admit(keyId, values, limitWindows(now), lease, this.leases.leaseMs), LIMIT_CHECK_TIMEOUT_MS);
    } catch (err) {
      // Let through unlimited; the lease may still have been taken by a late answer, so it is released all the same.
      this.unenforced('admit', err);
      return end;
    }
    if (refused === null) return end;
    if (lease) this.leases.forget(keyId, lease);
    throw this.refusal(refused, values[refused], now);
  }

  /**
   * Admits a request carrying `n` feedback, pairwise or energy events of `caller` under its `eventsPerMinute` (the
   * minute's events, these included, within the limit), or throws RATE_LIMITED (429 with Retry-After); a request of
   * more events than the limit is a 400 naming `events`. Fails open as `admit` does.
   */
  async admitEvents(caller: Principal, n: number, now = Date.now()): Promise<void> {
    const limit = caller.limits?.eventsPerMinute;
    if (limit === undefined || n === 0) return;
    if (n > limit)
      throw new DomainError('VALIDATION', `${n} events are more than this key's limit of ${limit} events per minute`, [
        { path: 'events', message: `at most ${limit} events in one request for this key` },
      ]);
    let admitted;
    try {
      admitted = await withinDeadline(this.store.admitEvents(caller.keyId, n, limit, limitWindows(now)), LIMIT_CHECK_TIMEOUT_MS);
    } catch (err) {
      this.unenforced('admit', err);
      return;
    }
    if (!admitted) throw this.refusal('eventsPerMinute', limit, now);
  }

  private refusal(limit: keyof typeof UNITS, value: number, now: number): DomainError {
    this.metrics.keyLimitRefusals.inc({ limit });
    const retry = retryAfterSeconds(limit, now);
    return new DomainError(
      'RATE_LIMITED',
      `${limit === 'eventsPerMinute' ? "these events do not fit in this key's" : 'this key is over its'} limit of ${value} ${UNITS[limit]}; retry in ${retry} s`,
      [{ path: `limits.${limit}`, message: 'limit reached' }],
      retry,
    );
  }

  /** Charges what a call used (tokens, USD) to `caller`'s counters it has limits on. Never fails the call. */
  charge(caller: Principal, tokens: number, usd: number | null, now = Date.now()): void {
    const amounts = chargeFor(caller.limits, tokens, usd);
    if (!amounts) return;
    withinDeadline(this.store.charge(caller.keyId, amounts, limitWindows(now)), LIMIT_CHECK_TIMEOUT_MS * 4).catch((err: unknown) =>
      this.unenforced('charge', err),
    );
  }

  /** After the server stopped taking requests and those in flight ended: gives back any lease still held. */
  onApplicationShutdown(): Promise<void> {
    return this.leases.close();
  }

  private unenforced(op: 'admit' | 'charge' | 'renew' | 'release', err: unknown): void {
    this.metrics.keyLimitsUnenforced.inc({ op });
    if (this.failures++ % 100 === 0) this.log.warn('key limits not enforced: Redis did not answer', { op, error: (err as Error)?.message ?? String(err) });
  }
}
