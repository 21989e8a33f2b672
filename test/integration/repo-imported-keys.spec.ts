import { createSql, hashSecret, KeysRepository, type Sql } from '@app/persistence';
import { freshEnvironment } from '../support/harness.js';

// KeysRepository's keys of a configuration file on a real Postgres: a given token stored hashed, its holder found
// (revoked keys too), and a replacement that revokes the old key in the same transaction, also keeping the token.
describe('KeysRepository imported keys (real Postgres)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let sql: Sql;
  let keys: KeysRepository;
  const TOKEN = 'imported-token-0123456789';

  beforeAll(async () => {
    env = await freshEnvironment('repo_imported_keys');
    sql = createSql(env.databaseUrl, 2);
    keys = new KeysRepository(sql);
  });
  afterAll(async () => {
    await sql.end();
    await env.drop();
  });

  it('stores a given token as its SHA-256 under the given id, with limits; its holder is found', async () => {
    const k = await keys.importKey('cfg:app:00000001', { name: 'app', scope: 'route', policies: ['p'], limits: { requestsPerMinute: 5 } }, TOKEN, null);
    expect(k).toMatchObject({ id: 'cfg:app:00000001', name: 'app', scope: 'route', policies: ['p'], limits: { requestsPerMinute: 5 }, revoked: null });
    const [row] = await sql<{ secret_hash: string }[]>`select secret_hash from api_keys where id = ${k.id}`;
    expect(row.secret_hash).toBe(hashSecret(TOKEN));
    expect(await keys.findBySecret(TOKEN)).toMatchObject({ keyId: k.id, owner: 'app', scope: 'route', policies: ['p'] });
    expect(await keys.holderOf(TOKEN)).toEqual({ id: k.id, revoked: false });
    expect(await keys.holderOf('never-issued-token-0000')).toBeNull();
  });

  it('replaces a key keeping its token: the old one revoked, the token now the new key’s; a second replacement too', async () => {
    const b = await keys.importKey('cfg:app:00000002', { name: 'app', scope: 'telemetry' }, TOKEN, 'cfg:app:00000001');
    expect(b.revoked).toBe('cfg:app:00000001');
    expect(await keys.findBySecret(TOKEN)).toMatchObject({ keyId: 'cfg:app:00000002', scope: 'telemetry', policies: null, limits: null });
    const c = await keys.importKey('cfg:app:00000003', { name: 'app', scope: 'route' }, TOKEN, 'cfg:app:00000002');
    expect(c.revoked).toBe('cfg:app:00000002');
    const rows = await keys.list();
    expect(rows.filter((r) => r.id.startsWith('cfg:app:')).map((r) => [r.id, r.revokedAt === null])).toEqual([
      ['cfg:app:00000001', false],
      ['cfg:app:00000002', false],
      ['cfg:app:00000003', true],
    ]);
    expect(await keys.holderOf(TOKEN)).toEqual({ id: 'cfg:app:00000003', revoked: false });
  });

  it('refuses a token a revoked key held (the unique hash), and revokes nothing when the insert fails', async () => {
    const old = await keys.create('gone', 'route', null);
    await keys.revoke(old.id);
    expect(await keys.holderOf(old.secret)).toEqual({ id: old.id, revoked: true });
    await expect(keys.importKey('cfg:reuse:00000001', { name: 'x', scope: 'route' }, old.secret, 'cfg:app:00000003')).rejects.toThrow();
    expect(await keys.findBySecret(TOKEN)).toMatchObject({ keyId: 'cfg:app:00000003' });
  });
});
