import { createSql, hashSecret, KeysRepository, type Sql } from '@app/persistence';
import { freshEnvironment } from '../support/harness.js';

// KeysRepository on a real Postgres: secrets shown once and stored as SHA-256 only, lookup, revocation.
describe('KeysRepository (real Postgres)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let sql: Sql;
  let keys: KeysRepository;

  beforeAll(async () => {
    env = await freshEnvironment('repo_keys');
    sql = createSql(env.databaseUrl, 2);
    keys = new KeysRepository(sql);
  });
  afterAll(async () => {
    await sql.end();
    await env.drop();
  });

  it('creates keys with a one-time secret that is stored only as its SHA-256', async () => {
    const k = await keys.create('tenant-a', 'route', ['p1', 'p2']);
    expect(k).toMatchObject({ name: 'tenant-a', scope: 'route', policies: ['p1', 'p2'], revokedAt: null });
    expect(k.id).toMatch(/^key_[0-9a-f]{16}$/);
    expect(k.secret).toMatch(/^rk_[A-Za-z0-9_-]{32}$/);
    const [row] = await sql<{ secret_hash: string }[]>`select * from api_keys where id = ${k.id}`;
    expect(row.secret_hash).toBe(hashSecret(k.secret));
    expect(hashSecret(k.secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(k.secret.slice(3));
    const again = await keys.create('tenant-a', 'route', null); // the same name may hold several keys
    expect(again.id).not.toBe(k.id);
    expect(again.secret).not.toBe(k.secret);
  });

  it('finds the principal by secret (scope and policy list included); unknown secrets find nothing', async () => {
    const route = await keys.create('owner-r', 'route', ['p1']);
    const telemetry = await keys.create('gpu-host', 'telemetry', null);
    const admin = await keys.create('ops', 'admin', null);
    expect(await keys.findBySecret(route.secret)).toEqual({ keyId: route.id, owner: 'owner-r', scope: 'route', policies: ['p1'], limits: null });
    expect(await keys.findBySecret(telemetry.secret)).toEqual({ keyId: telemetry.id, owner: 'gpu-host', scope: 'telemetry', policies: null, limits: null });
    expect(await keys.findBySecret(admin.secret)).toMatchObject({ scope: 'admin' });
    expect(await keys.findBySecret(route.secret + 'x')).toBeNull();
    expect(await keys.findBySecret('')).toBeNull();
    expect(await keys.findBySecret(hashSecret(route.secret))).toBeNull(); // the stored hash is not a secret
  });

  it('revokes once: the secret stops working, the key stays listed with its revocation time', async () => {
    const k = await keys.create('leaver', 'route', null);
    const other = await keys.create('stayer', 'route', null);
    expect(await keys.revoke(k.id)).toBe(true);
    expect(await keys.revoke(k.id)).toBe(false);
    expect(await keys.revoke('key_unknown')).toBe(false);
    expect(await keys.findBySecret(k.secret)).toBeNull();
    expect(await keys.findBySecret(other.secret)).not.toBeNull();
    const listed = await keys.list();
    const mine = listed.find((r) => r.id === k.id)!;
    expect(mine.revokedAt).not.toBeNull();
    expect(new Date(mine.revokedAt!).getTime()).toBeGreaterThanOrEqual(new Date(mine.createdAt).getTime());
    expect(listed.find((r) => r.id === other.id)!.revokedAt).toBeNull();
    // Ordered by creation time; the listing never carries secrets or hashes.
    const times = listed.map((r) => new Date(r.createdAt).getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(listed.at(-1)!.id).toBe(other.id);
    expect(Object.keys(mine).sort()).toEqual(['createdAt', 'id', 'limits', 'name', 'policies', 'revokedAt', 'scope']);
  });

  it('stores limits at creation, replaces and removes them on live keys only, and hands them to the principal', async () => {
    const k = await keys.create('limited', 'route', null, { requestsPerMinute: 5, usdPerDay: 0.5 });
    expect(k.limits).toEqual({ requestsPerMinute: 5, usdPerDay: 0.5 });
    expect((await keys.findBySecret(k.secret))?.limits).toEqual({ requestsPerMinute: 5, usdPerDay: 0.5 });
    expect((await keys.setLimits(k.id, { tokensPerMinute: 1000 }))?.limits).toEqual({ tokensPerMinute: 1000 });
    expect((await keys.get(k.id))?.limits).toEqual({ tokensPerMinute: 1000 });
    expect((await keys.setLimits(k.id, null))?.limits).toBeNull();
    expect((await keys.findBySecret(k.secret))?.limits).toBeNull();
    expect(await keys.setLimits('key_unknown', { requestsPerMinute: 1 })).toBeNull();
    await keys.revoke(k.id);
    expect(await keys.setLimits(k.id, { requestsPerMinute: 1 })).toBeNull();
    expect((await keys.get(k.id))?.revokedAt).not.toBeNull();
  });

  it('refuses a scope outside route, telemetry and admin', async () => {
    await expect(keys.create('x', 'root' as 'admin', null)).rejects.toThrow(/api_keys_scope_check/);
  });

  // postgres.js returns timestamptz columns as Date objects: ApiKeyRow declares them so (JSON shows ISO strings).
  it('returns createdAt and revokedAt as the Dates ApiKeyRow declares', async () => {
    const k = await keys.create('typed', 'route', null);
    await keys.revoke(k.id);
    const row = (await keys.list()).find((r) => r.id === k.id)!;
    expect(k.createdAt).toBeInstanceOf(Date);
    expect(row.createdAt).toBeInstanceOf(Date);
    expect(row.revokedAt).toBeInstanceOf(Date);
  });
});
