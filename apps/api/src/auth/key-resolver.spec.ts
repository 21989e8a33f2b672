import { type Principal } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CACHE_MS, KeyResolver, KNOWN_KEYS, RETRY_MS, UNKNOWN_TOKENS } from './key-resolver.js';

/** Our own repository boundary: a map of secrets, a switch for "Postgres away", and a count of lookups. */
class Keys {
  readonly rows = new Map<string, Principal>();
  down = false;
  lookups = 0;
  findBySecret(secret: string): Promise<Principal | null> {
    this.lookups++;
    if (this.down) return Promise.reject(new Error('connection refused'));
    return Promise.resolve(this.rows.get(secret) ?? null);
  }
}

const ROUTE: Principal = { keyId: 'key_1', owner: 'team', scope: 'route', policies: null };
const opts = { adminSecret: 'admin-secret-0123456789', lookupsPerSecond: 10, lookupBurst: 20, lookupsPerSecondTotal: 1000 };
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: DomainError) => e.code,
  );

describe('KeyResolver', () => {
  it('keeps a known key through a flood of unknown tokens and a Postgres outage', async () => {
    const keys = new Keys();
    keys.rows.set('good', ROUTE);
    const r = new KeyResolver(keys, { ...opts, lookupBurst: 1e9, lookupsPerSecondTotal: 1e9 });
    const t = 1_000_000;
    expect(await r.resolve('good', 'c', t)).toEqual(ROUTE);
    for (let i = 0; i < 2 * (KNOWN_KEYS + UNKNOWN_TOKENS); i++) expect(await r.resolve(`random${i}`, 'c', t)).toBeNull();
    keys.down = true;
    const before = keys.lookups;
    expect(await r.resolve('good', 'c', t + 1000)).toEqual(ROUTE); // from the cache, no lookup
    expect(keys.lookups).toBe(before);
    // Past the cache time: Postgres is asked, fails, and the known key is still served (asked again after RETRY_MS).
    expect(await r.resolve('good', 'c', t + CACHE_MS + 1)).toEqual(ROUTE);
    expect(await r.resolve('good', 'c', t + CACHE_MS + 2)).toEqual(ROUTE);
    expect(keys.lookups).toBe(before + 1);
    expect(await r.resolve('good', 'c', t + CACHE_MS + RETRY_MS + 2)).toEqual(ROUTE);
    expect(keys.lookups).toBe(before + 2);
    expect(await code(r.resolve('never-seen', 'c', t + CACHE_MS))).toBe('UNAVAILABLE');
  });

  it('holds route keys to the default limits where they set none of their own; telemetry and admin keys keep theirs', async () => {
    const keys = new Keys();
    keys.rows.set('plain', ROUTE);
    keys.rows.set('own', { ...ROUTE, keyId: 'key_2', limits: { requestsPerMinute: 10, usdPerDay: 2 } });
    keys.rows.set('telemetry', { ...ROUTE, keyId: 'key_3', scope: 'telemetry', limits: null });
    keys.rows.set('operator', { ...ROUTE, keyId: 'key_4', scope: 'admin', limits: null });
    const r = new KeyResolver(keys, { ...opts, defaultLimits: { requestsPerMinute: 3, concurrentRequests: 1 } });
    expect((await r.resolve('plain', 'c'))?.limits).toEqual({ requestsPerMinute: 3, concurrentRequests: 1 });
    expect((await r.resolve('own', 'c'))?.limits).toEqual({ requestsPerMinute: 10, concurrentRequests: 1, usdPerDay: 2 });
    expect((await r.resolve('telemetry', 'c'))?.limits).toBeNull();
    expect((await r.resolve('operator', 'c'))?.limits).toBeNull();
    expect((await r.resolve(opts.adminSecret, 'c'))?.limits).toBeUndefined();
    // The repository's rows are not changed.
    expect(keys.rows.get('plain')?.limits).toBeUndefined();
    // Without defaults a key's own limits are what it gets.
    expect((await new KeyResolver(keys, opts).resolve('plain', 'c'))?.limits).toBeUndefined();
  });

  it('caps lookups of unknown tokens per client (429 without a query) but not re-checks of known keys', async () => {
    const keys = new Keys();
    keys.rows.set('good', ROUTE);
    const r = new KeyResolver(keys, opts);
    const t = 5_000_000;
    expect(await r.resolve('good', 'attacker', t)).toEqual(ROUTE);
    const outcomes = await Promise.all(Array.from({ length: 1000 }, (_, i) => code(r.resolve(`random${i}`, 'attacker', t))));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(19); // the burst, less the lookup of 'good'
    expect(outcomes.filter((o) => o === 'RATE_LIMITED')).toHaveLength(981);
    expect(keys.lookups).toBe(20);
    const err = await r.resolve('another', 'attacker', t).catch((e: DomainError) => e);
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    expect(await r.resolve('good', 'attacker', t + CACHE_MS + 1)).toEqual(ROUTE); // re-check: no budget needed
    expect(await r.resolve('random0', 'attacker', t + 1)).toBeNull(); // remembered as unknown: no budget needed
    expect(await code(r.resolve('new', 'someone-else', t))).toBe('ok'); // other clients have their own budget
  });

  it('caps lookups for all clients together', async () => {
    const keys = new Keys();
    const r = new KeyResolver(keys, { ...opts, lookupsPerSecondTotal: 50 });
    const outcomes = await Promise.all(Array.from({ length: 500 }, (_, i) => code(r.resolve(`random${i}`, `client${i}`, 0))));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(50);
    expect(keys.lookups).toBe(50);
  });

  it('shares one query among concurrent requests with the same secret', async () => {
    const keys = new Keys();
    keys.rows.set('good', ROUTE);
    const r = new KeyResolver(keys, opts);
    const all = await Promise.all(Array.from({ length: 100 }, () => r.resolve('good', 'c', 0)));
    expect(all.every((p) => p?.keyId === 'key_1')).toBe(true);
    expect(keys.lookups).toBe(1);
  });

  it('refuses a revoked key at once, also when a lookup in flight answers after the revocation', async () => {
    const keys = new Keys();
    keys.rows.set('good', ROUTE);
    const r = new KeyResolver(keys, opts);
    expect(await r.resolve('good', 'c', 0)).toEqual(ROUTE);
    r.revoke('key_1');
    expect(await r.resolve('good', 'c', 1)).toBeNull();
    const r2 = new KeyResolver(keys, opts);
    const pending = r2.resolve('good', 'c', 0); // Postgres answered before the revocation was committed
    r2.revoke('key_1');
    expect(await pending).toBeNull();
    keys.down = true;
    expect(await r.resolve('good', 'c', CACHE_MS * 2)).toBeNull(); // not served stale through an outage either
    expect(await code(r.resolve('never-seen', 'c', CACHE_MS * 2))).toBe('UNAVAILABLE');
  });

  it('knows the bootstrap admin key without Postgres', async () => {
    const keys = new Keys();
    keys.down = true;
    const r = new KeyResolver(keys, opts);
    expect(await r.resolve(opts.adminSecret, 'c')).toMatchObject({ keyId: 'bootstrap', scope: 'admin' });
    expect(keys.lookups).toBe(0);
  });
});
