import { Logger } from '@app/infra';
import { Redis } from 'ioredis';
import { BreakerService } from '../../apps/api/src/breakers/breakers.service.js';
import { type ApiEnv } from '../../apps/api/src/config.js';
import { freshEnvironment, REDIS_URL } from '../support/harness.js';

/**
 * BreakerService (one replica's view) on a real Redis: who keeps off a model while the router checks it. The
 * checks here are promises the test settles, so the window in which a check is under way is exact.
 */
describe('BreakerService: who keeps off a model while it is checked (real Redis)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let redis: Redis;
  let breakers: BreakerService;

  beforeAll(async () => {
    env = await freshEnvironment('breaker_service');
    redis = new Redis(REDIS_URL);
    const config = { REDIS_PREFIX: env.prefix, BREAKER_THRESHOLD: 3, BREAKER_COOLDOWN_MS: 60_000, PROXY_TTFT_TIMEOUT_MS: 60_000 } as ApiEnv;
    breakers = new BreakerService(redis, config, new Logger('test', 'silent'));
  });
  afterAll(async () => {
    breakers.onApplicationShutdown();
    await redis.quit();
    await env.drop();
  });

  /** A check that answers `verdict` when `settle` is called. */
  const pending = (verdict: boolean) => {
    let settle: () => void = () => undefined;
    const check = () => new Promise<boolean>((r) => (settle = () => r(verdict)));
    return { check, settle: () => settle() };
  };

  it('keeps the tenant whose own failures asked for the check off the model until the verdict, and no one else', async () => {
    const { check, settle } = pending(true);
    for (let i = 0; i < 2; i++) expect(await breakers.failure('m1', Date.now(), 'mallory', check)).toBe('closed');
    expect(await breakers.failure('m1', Date.now(), 'mallory', check)).toBe('check');
    // Seen at once on this replica: no wait for its next poll.
    expect(breakers.out('m1', 'mallory')).toBe(true);
    expect(breakers.excluded('m1', 'alice')).toBe(false);
    expect(breakers.state('m1')).toMatchObject({ state: 'closed', checking: true });
    settle();
    // The model answered: mallory is out for a cool-down; alice never was.
    await new Promise((r) => setTimeout(r, 200));
    expect(breakers.out('m1', 'mallory')).toBe(true);
    expect(breakers.state('m1')).toMatchObject({ state: 'closed', tenantsOut: 1 });
    expect(breakers.state('m1').checking).toBeUndefined();
    expect(breakers.excluded('m1', 'alice')).toBe(false);
    expect(breakers.tenantOuts.get('m1')).toBe(1);
  });

  it('keeps no one off during a check for the model count alone (tenants taking turns to fail)', async () => {
    const { check, settle } = pending(true);
    expect(await breakers.failure('m2', Date.now(), 'a', check)).toBe('closed');
    expect(await breakers.failure('m2', Date.now(), 'b', check)).toBe('closed');
    expect(await breakers.failure('m2', Date.now(), 'a', check)).toBe('check');
    expect(breakers.state('m2')).toMatchObject({ state: 'closed', checking: true });
    for (const tenant of ['a', 'b', 'alice']) expect(breakers.excluded('m2', tenant)).toBe(false);
    settle();
    await new Promise((r) => setTimeout(r, 200));
    expect(breakers.state('m2')).toEqual({ state: 'closed', failures: 0, openedAt: 0 });
    expect(breakers.checkCounts.get('m2')).toEqual({ up: 1, down: 0, none: 0 });
  });

  it('opens the model for everyone when the check finds it down', async () => {
    const { check, settle } = pending(false);
    for (let i = 0; i < 2; i++) await breakers.failure('m3', Date.now(), 'mallory', check);
    expect(await breakers.failure('m3', Date.now(), 'mallory', check)).toBe('check');
    settle();
    await new Promise((r) => setTimeout(r, 200));
    expect(breakers.state('m3').state).toBe('open');
    for (const tenant of [null, 'mallory', 'alice']) expect(breakers.excluded('m3', tenant)).toBe(true);
  });
});
