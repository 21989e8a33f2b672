import { BreakerStore, type BreakerSettings } from '@app/store';
import { Redis } from 'ioredis';
import { freshEnvironment, REDIS_URL } from '../support/harness.js';

// breaker-1.lua through its typed wrapper (BreakerStore), on a real Redis. Times are passed explicitly so every
// boundary (threshold, cool-down, probe ttl) is exact.
const S: BreakerSettings = { threshold: 3, cooldownMs: 1000, probeTtlMs: 500 };
const T0 = 1_700_000_000_123; // a 13-digit ms timestamp: must survive the script's JSON state exactly

describe('breaker-1.lua: per-model circuit breaker with per-tenant counts, shared by every replica (real Redis)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  const conns: Redis[] = [];
  let breakers: BreakerStore;
  let n = 0;
  const model = () => `m${++n}`; // a fresh model (hash field) per test

  beforeAll(async () => {
    env = await freshEnvironment('lua_breaker');
    for (let i = 0; i < 8; i++) conns.push(new Redis(REDIS_URL));
    breakers = new BreakerStore(conns[0], env.prefix);
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.quit()));
    await env.drop();
  });

  /** Failures up to the threshold at `at`, and the health check they ask for finding the model down: it opens. */
  async function open(m: string, at = T0): Promise<void> {
    for (let i = 0; i < S.threshold - 1; i++) expect(await breakers.failure(m, S, at)).toBe('closed');
    expect(await breakers.failure(m, S, at)).toBe('check');
    expect(await breakers.verdict(m, S, at, 'down', at)).toBe('open');
  }

  it('asks for a check at exactly `threshold` consecutive failures, and opens when the check finds the model down; a success resets the count', async () => {
    const m = model();
    expect(await breakers.failure(m, S, T0)).toBe('closed');
    expect(await breakers.failure(m, S, T0 + 1)).toBe('closed');
    expect(await breakers.success(m, S, T0 + 2)).toBe('closed');
    expect((await breakers.all()).get(m)).toEqual({ state: 'closed', failures: 0, openedAt: 0 });
    // Consecutive: the two failures before the success no longer count.
    expect(await breakers.failure(m, S, T0 + 3)).toBe('closed');
    expect(await breakers.failure(m, S, T0 + 4)).toBe('closed');
    expect(await breakers.failure(m, S, T0 + 5)).toBe('check');
    // Failures while the check is under way are counted, and ask for no second check. The model's count asked for
    // it (no tenant named): everyone keeps off the model until its verdict.
    expect(await breakers.failure(m, S, T0 + 6)).toBe('closed');
    expect((await breakers.all()).get(m)).toEqual({ state: 'closed', failures: 4, openedAt: 0, checking: { until: T0 + 5 + S.probeTtlMs, tenant: null } });
    // A verdict naming another grant time changes nothing; the check's own opens the breaker.
    expect(await breakers.verdict(m, S, T0 + 4, 'down', T0 + 7)).toBe('closed');
    expect(await breakers.verdict(m, S, T0 + 5, 'down', T0 + 8)).toBe('open');
    expect((await breakers.all()).get(m)).toEqual({ state: 'open', failures: 4, openedAt: T0 + 8 });
  });

  it('a model that answers the check stays in: the count restarts, and a check that gives no verdict or never reports frees its slot', async () => {
    const m = model();
    for (let i = 0; i < S.threshold - 1; i++) await breakers.failure(m, S, T0);
    expect(await breakers.failure(m, S, T0 + 1)).toBe('check');
    expect(await breakers.verdict(m, S, T0 + 1, 'up', T0 + 2)).toBe('closed');
    expect((await breakers.all()).get(m)).toEqual({ state: 'closed', failures: 0, openedAt: 0 });
    // Calls admitted before that check that fail late are not counted; later ones are.
    expect(await breakers.failure(m, S, T0 + 3, null, T0 + 1)).toBe('closed');
    expect((await breakers.all()).get(m)?.failures).toBe(0);
    // The model's count reaches the threshold again within a second of its last check: no check yet (tenants taking
    // turns to fail could otherwise have it checked every few calls); a second after it, one.
    for (let i = 0; i < S.threshold; i++) expect(await breakers.failure(m, S, T0 + 10, null, T0 + 5)).toBe('closed');
    expect(await breakers.failure(m, S, T0 + 1000)).toBe('closed');
    expect(await breakers.failure(m, S, T0 + 1001)).toBe('check');
    // No verdict (the check could not be made): the slot is free, and a failure a second later asks again.
    expect(await breakers.verdict(m, S, T0 + 1001, 'none', T0 + 1002)).toBe('closed');
    expect(await breakers.failure(m, S, T0 + 1003)).toBe('closed');
    expect(await breakers.failure(m, S, T0 + 2001)).toBe('check');
    // That check never reports: no other check until its ttl (and the second) has passed.
    expect(await breakers.failure(m, S, T0 + 2001 + S.probeTtlMs)).toBe('closed');
    expect(await breakers.failure(m, S, T0 + 3001)).toBe('check');
    // The late verdict of the first is stale.
    expect(await breakers.verdict(m, S, T0 + 2001, 'down', T0 + 3002)).toBe('closed');
    // A tenant's own count is not held to that second: its check comes at once.
    const n = model();
    for (let i = 0; i < S.threshold - 1; i++) await breakers.failure(n, S, T0, null, null, 'x');
    expect(await breakers.failure(n, S, T0, null, null, 'x')).toBe('check');
    expect(await breakers.verdict(n, S, T0, 'up', T0 + 1)).toBe('tenant');
    for (let i = 0; i < S.threshold - 1; i++) await breakers.failure(n, S, T0 + 2, null, null, 'y');
    expect(await breakers.failure(n, S, T0 + 2, null, null, 'y')).toBe('check');
  });

  it('a tenant whose own calls keep failing on a model that answers the check is out of it for a cool-down; other tenants are not', async () => {
    const m = model();
    // Another tenant's successes between them: the model's own count never reaches the threshold, the tenant's does.
    for (let i = 0; i < S.threshold - 1; i++) {
      expect(await breakers.failure(m, S, T0 + i, null, null, 'mallory')).toBe('closed');
      expect(await breakers.success(m, S, T0 + i, 'alice')).toBe('closed');
    }
    expect((await breakers.all()).get(m)).toEqual({ state: 'closed', failures: 0, openedAt: 0, tenants: { mallory: { failures: 2, outUntil: 0 } } });
    expect(await breakers.failure(m, S, T0 + 5, null, null, 'mallory')).toBe('check');
    expect(await breakers.verdict(m, S, T0 + 5, 'up', T0 + 6)).toBe('tenant');
    const out = T0 + 6 + S.cooldownMs;
    expect((await breakers.all()).get(m)).toEqual({ state: 'closed', failures: 0, openedAt: 0, tenants: { mallory: { failures: 0, outUntil: out } } });
    // While out, that tenant's late failures count for nothing; another tenant's count as before.
    for (let i = 0; i < 2 * S.threshold; i++) expect(await breakers.failure(m, S, T0 + 10, null, null, 'mallory')).toBe('closed');
    expect(await breakers.failure(m, S, T0 + 11, null, null, 'alice')).toBe('closed');
    expect((await breakers.all()).get(m)).toEqual({
      state: 'closed',
      failures: 1,
      openedAt: 0,
      tenants: { mallory: { failures: 0, outUntil: out }, alice: { failures: 1, outUntil: 0 } },
    });
    // Once its time is up, and its count at 0, the tenant leaves the state.
    expect(await breakers.success(m, S, out, 'alice')).toBe('closed');
    expect((await breakers.all()).get(m)).toEqual({ state: 'closed', failures: 0, openedAt: 0 });
  });

  it('failures of several tenants reaching the threshold together put none of them out when the model answers the check; a down model opens for all', async () => {
    const m = model();
    expect(await breakers.failure(m, S, T0, null, null, 'a')).toBe('closed');
    expect(await breakers.failure(m, S, T0, null, null, 'a')).toBe('closed');
    expect(await breakers.failure(m, S, T0 + 1, null, null, 'b')).toBe('check');
    expect((await breakers.all()).get(m)?.checking).toEqual({ until: T0 + 1 + S.probeTtlMs, tenant: null });
    expect(await breakers.verdict(m, S, T0 + 1, 'up', T0 + 2)).toBe('closed');
    // The model answered: those failures were no one's own doing, and every count restarts.
    expect((await breakers.all()).get(m)).toEqual({ state: 'closed', failures: 0, openedAt: 0 });
    for (let i = 0; i < S.threshold - 1; i++) expect(await breakers.failure(m, S, T0 + 3, null, null, 'a')).toBe('closed');
    expect(await breakers.failure(m, S, T0 + 3, null, null, 'a')).toBe('check');
    // A check `a`'s own count asked for: `a` keeps off the model meanwhile, other tenants do not.
    expect((await breakers.all()).get(m)?.checking).toEqual({ until: T0 + 3 + S.probeTtlMs, tenant: 'a' });
    expect(await breakers.verdict(m, S, T0 + 3, 'down', T0 + 4)).toBe('open');
    // Opened for everyone; the tenants' counts were the model's failures and leave.
    expect((await breakers.all()).get(m)).toEqual({ state: 'open', failures: 3, openedAt: T0 + 4 });
  });

  it("puts a tenant out only if its count still reaches the threshold at the verdict; a tenant's failures are in a row within a cool-down", async () => {
    const m = model();
    for (let i = 0; i < S.threshold - 1; i++) await breakers.failure(m, S, T0, null, null, 'alice');
    expect(await breakers.failure(m, S, T0 + 1, null, null, 'alice')).toBe('check');
    // Her next call works before the verdict: her count is gone, and the check's `up` puts no one out.
    expect(await breakers.success(m, S, T0 + 2, 'alice')).toBe('closed');
    expect(await breakers.verdict(m, S, T0 + 1, 'up', T0 + 3)).toBe('closed');
    expect((await breakers.all()).get(m)).toEqual({ state: 'closed', failures: 0, openedAt: 0 });
    // Failures more than a cool-down apart are not in a row for the tenant (the model's own count has no window).
    const t = T0 + 10;
    for (let i = 0; i < S.threshold - 1; i++) expect(await breakers.failure(m, S, t + i * (S.cooldownMs + 1), null, null, 'bob')).toBe('closed');
    expect((await breakers.all()).get(m)?.tenants).toEqual({ bob: { failures: 1, outUntil: 0 } });
    // A tenant whose last failure is more than a cool-down old leaves the state at the next write.
    await breakers.success(m, S, t + S.threshold * (S.cooldownMs + 1), 'carol');
    expect((await breakers.all()).get(m)).toEqual({ state: 'closed', failures: 0, openedAt: 0 });
  });

  it('keeps at most 64 tenants that are not out, dropping the ones failed longest ago first', async () => {
    const m = model();
    for (let i = 0; i < 200; i++) await breakers.failure(m, S, T0 + i, null, null, `t${i}`);
    const tenants = Object.keys((await breakers.all()).get(m)?.tenants ?? {});
    expect(tenants).toHaveLength(64);
    expect(tenants.sort()).toEqual(Array.from({ length: 64 }, (_, i) => `t${136 + i}`).sort());
  });

  it('lets no one through during the cool-down, then exactly one probe per probe ttl', async () => {
    const m = model();
    expect(await breakers.probe(m, S, T0)).toBe('closed'); // unknown model: closed, and nothing is written
    expect((await breakers.all()).has(m)).toBe(false);
    await open(m);
    expect(await breakers.probe(m, S, T0 + S.cooldownMs - 1)).toBe('open');
    expect(await breakers.probe(m, S, T0 + S.cooldownMs)).toBe('probe');
    expect(await breakers.probe(m, S, T0 + S.cooldownMs)).toBe('open'); // the slot is taken
    expect(await breakers.probe(m, S, T0 + S.cooldownMs + S.probeTtlMs - 1)).toBe('open');
    // A probe that never reports frees the slot after its ttl: one more caller may try.
    expect(await breakers.probe(m, S, T0 + S.cooldownMs + S.probeTtlMs)).toBe('probe');
    expect(await breakers.probe(m, S, T0 + S.cooldownMs + S.probeTtlMs + 1)).toBe('open');
    expect((await breakers.all()).get(m)).toEqual({ state: 'open', failures: 3, openedAt: T0 }); // probes change no counts
  });

  it('a failed probe reopens at once and restarts the cool-down; a successful one closes', async () => {
    const m = model();
    await open(m);
    const t = T0 + S.cooldownMs;
    expect(await breakers.probe(m, S, t)).toBe('probe');
    // A call admitted before the breaker opened, failing late: the open breaker stays as it is (its cool-down is
    // not restarted, the probe keeps its slot); so does a failure naming another grant time.
    expect(await breakers.failure(m, S, t + 5)).toBe('open');
    expect(await breakers.failure(m, S, t + 6, t + 1)).toBe('open');
    expect((await breakers.all()).get(m)).toEqual({ state: 'open', failures: 3, openedAt: T0 });
    expect(await breakers.probe(m, S, t + 7)).toBe('open');
    // The probe's own failure re-opens it.
    expect(await breakers.failure(m, S, t + 10, t)).toBe('open');
    expect((await breakers.all()).get(m)).toEqual({ state: 'open', failures: 4, openedAt: t + 10 });
    // The new cool-down counts from the failed probe, and it clears the probe slot.
    expect(await breakers.probe(m, S, t + 10 + S.cooldownMs - 1)).toBe('open');
    expect(await breakers.probe(m, S, t + 10 + S.cooldownMs)).toBe('probe');
    expect(await breakers.success(m, S, t + 10 + S.cooldownMs + 5)).toBe('closed');
    expect((await breakers.all()).get(m)).toEqual({ state: 'closed', failures: 0, openedAt: 0 });
    expect(await breakers.probe(m, S, t + 10 + S.cooldownMs + 6)).toBe('closed');
    // Closed again with a clean count: one failure does not reopen it.
    expect(await breakers.failure(m, S, t + 20 + S.cooldownMs)).toBe('closed');
    // A probe's failure reported after the breaker closed is not counted (nor can it ask for a check).
    expect(await breakers.failure(m, S, t + 21 + S.cooldownMs, t + 10 + S.cooldownMs)).toBe('closed');
    expect((await breakers.all()).get(m)?.failures).toBe(1);
  });

  it('after a close, a call admitted before it that fails late is not counted; one admitted after it is', async () => {
    const m = model();
    await open(m);
    const t = T0 + S.cooldownMs;
    expect(await breakers.probe(m, S, t)).toBe('probe');
    expect(await breakers.success(m, S, t + 10)).toBe('closed');
    // Admitted at T0 + 1 (before the close at t + 10), failing now: a leftover of the earlier round.
    for (let i = 0; i < S.threshold; i++) expect(await breakers.failure(m, S, t + 20 + i, null, T0 + 1)).toBe('closed');
    expect((await breakers.all()).get(m)).toEqual({ state: 'closed', failures: 0, openedAt: 0 });
    // Admitted after the close: counted, and the threshold asks for a check.
    for (let i = 0; i < S.threshold - 1; i++) expect(await breakers.failure(m, S, t + 30 + i, null, t + 10)).toBe('closed');
    expect(await breakers.failure(m, S, t + 40, null, t + 11)).toBe('check');
    // A failure whose admission is not known counts, as before.
    const n = model();
    expect(await breakers.failure(n, S, T0)).toBe('closed');
    expect((await breakers.all()).get(n)).toEqual({ state: 'closed', failures: 1, openedAt: 0 });
  });

  it('a probe released without a verdict frees its own slot only, and changes no counts', async () => {
    const m = model();
    await open(m);
    const t = T0 + S.cooldownMs;
    expect(await breakers.probe(m, S, t)).toBe('probe');
    expect(await breakers.probe(m, S, t + 1)).toBe('open');
    // A release naming another grant time (not this probe's) leaves the slot taken.
    expect(await breakers.release(m, S, t + 1)).toBe('open');
    expect(await breakers.probe(m, S, t + 2)).toBe('open');
    expect(await breakers.release(m, S, t)).toBe('open');
    expect((await breakers.all()).get(m)).toEqual({ state: 'open', failures: 3, openedAt: T0 });
    // Freed: the next caller probes at once, long before the ttl.
    expect(await breakers.probe(m, S, t + 3)).toBe('probe');
    // The first probe's late release cannot free the second's slot.
    expect(await breakers.release(m, S, t)).toBe('open');
    expect(await breakers.probe(m, S, t + 4)).toBe('open');
    // After a verdict a release changes nothing: closed stays closed.
    expect(await breakers.success(m, S, t + 5)).toBe('closed');
    expect(await breakers.release(m, S, t + 3)).toBe('closed');
    expect((await breakers.all()).get(m)).toEqual({ state: 'closed', failures: 0, openedAt: 0 });
  });

  it('exactly one of many concurrent callers on 8 connections gets the probe', async () => {
    const m = model();
    const stores = conns.map((c) => new BreakerStore(c, env.prefix));
    await open(m);
    const start = T0 + S.cooldownMs;
    // 200 callers spread over the first probe's ttl: one slot for all of them.
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => stores[i % stores.length].probe(m, S, start + (i % S.probeTtlMs))));
    expect(answers.filter((a) => a === 'probe')).toHaveLength(1);
    expect(answers.filter((a) => a === 'open')).toHaveLength(199);
    // Same again for the next slot, with every caller at the same instant.
    const again = await Promise.all(Array.from({ length: 200 }, (_, i) => stores[i % stores.length].probe(m, S, start + 3 * S.probeTtlMs)));
    expect(again.filter((a) => a === 'probe')).toHaveLength(1);
  });

  it('counts every failure of concurrent callers (no lost update), and exactly one of them checks the model', async () => {
    const m = model();
    const stores = conns.map((c) => new BreakerStore(c, env.prefix));
    const states = await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % stores.length].failure(m, S, T0 + (i % 20), null, null, `t${i % 4}`)));
    expect(states.filter((s) => s === 'check')).toHaveLength(1);
    expect(states.filter((s) => s === 'closed')).toHaveLength(39);
    const after = (await breakers.all()).get(m)!;
    expect(after).toMatchObject({ state: 'closed', failures: 40 });
    expect(Object.values(after.tenants ?? {}).map((t) => t.failures)).toEqual([10, 10, 10, 10]);
  });

  it('keeps models apart, and one prefix from another', async () => {
    const a = model();
    const b = model();
    await open(a);
    await breakers.failure(b, S, T0);
    expect(await breakers.probe(b, S, T0 + S.cooldownMs)).toBe('closed');
    const all = await breakers.all();
    expect(all.get(a)?.state).toBe('open');
    expect(all.get(b)).toEqual({ state: 'closed', failures: 1, openedAt: 0 });
    const other = new BreakerStore(conns[1], `${env.prefix}:other`);
    expect((await other.all()).size).toBe(0);
    expect(await other.probe(a, S, T0 + S.cooldownMs)).toBe('closed');
  });
});
