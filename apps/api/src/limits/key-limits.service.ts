import { Inject, Injectable } from '@nestjs/common';
import { type Principal } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG, Logger, REDIS, type RedisClient } from '@app/infra';
import { KeyLimitsStore } from '@app/store';
import { type ApiEnv } from '../config.js';
import { MetricsService } from '../observability/metrics.service.js';
import { chargeFor, limitValues, limitWindows, retryAfterSeconds } from './windows.js';

/** How long a limit check may wait for Redis before the request is let through. */
export const LIMIT_CHECK_TIMEOUT_MS = 250;

const UNITS = { requestsPerMinute: 'requests per minute', tokensPerMinute: 'tokens per minute', usdPerDay: 'USD per UTC day' } as const;

/**
 * Per-key limits (`limits` on a key), enforced across replicas by counters in Redis (KeyLimitsStore): a request is
 * admitted or refused with 429 and Retry-After; tokens and USD are charged when a call's usage is known, so the
 * call that crosses a limit completes and the next requests are refused until the window ends.
 *
 * Fails open: when Redis errs or takes longer than LIMIT_CHECK_TIMEOUT_MS, the request goes through (routing must
 * not stop because Redis did), counted in `router_key_limits_unenforced_total`.
 */
@Injectable()
export class KeyLimitsService {
  private readonly store: KeyLimitsStore;
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
  }

  /** Admits one request of `caller`, or throws RATE_LIMITED (429 with Retry-After) naming the limit. */
  async admit(caller: Principal, now = Date.now()): Promise<void> {
    const values = limitValues(caller.limits);
    if (!values) return;
    let refused;
    try {
      refused = await withTimeout(this.store.admit(caller.keyId, values, limitWindows(now)), LIMIT_CHECK_TIMEOUT_MS);
    } catch (err) {
      this.unenforced('admit', err);
      return;
    }
    if (refused === null) return;
    this.metrics.keyLimitRefusals.inc({ limit: refused });
    const retry = retryAfterSeconds(refused, now);
    throw new DomainError(
      'RATE_LIMITED',
      `this key is over its limit of ${values[refused]} ${UNITS[refused]}; retry in ${retry} s`,
      [{ path: `limits.${refused}`, message: 'limit reached' }],
      retry,
    );
  }

  /** Charges what a call used (tokens, USD) to `caller`'s counters it has limits on. Never fails the call. */
  charge(caller: Principal, tokens: number, usd: number | null, now = Date.now()): void {
    const amounts = chargeFor(caller.limits, tokens, usd);
    if (!amounts) return;
    withTimeout(this.store.charge(caller.keyId, amounts, limitWindows(now)), LIMIT_CHECK_TIMEOUT_MS * 4).catch((err: unknown) =>
      this.unenforced('charge', err),
    );
  }

  private unenforced(op: 'admit' | 'charge', err: unknown): void {
    this.metrics.keyLimitsUnenforced.inc({ op });
    if (this.failures++ % 100 === 0) this.log.warn('key limits not enforced: Redis did not answer', { op, error: (err as Error)?.message ?? String(err) });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
