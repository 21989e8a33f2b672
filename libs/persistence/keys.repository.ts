import { createHash, randomBytes } from 'node:crypto';
import { type KeyLimits, type Principal, type Scope } from '@app/contracts';
import { type Sql } from './db.js';

export interface ApiKeyRow {
  id: string;
  name: string;
  scope: Scope;
  policies: string[] | null;
  /** Null: no limits. */
  limits?: KeyLimits | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** API keys: secrets are returned once at creation and stored as SHA-256 only. */
export class KeysRepository {
  constructor(private readonly sql: Sql) {}

  async create(name: string, scope: Scope, policies: string[] | null, limits: KeyLimits | null = null): Promise<ApiKeyRow & { secret: string }> {
    const id = `key_${randomBytes(8).toString('hex')}`;
    const secret = `rk_${randomBytes(24).toString('base64url')}`;
    const [row] = await this.sql<ApiKeyRow[]>`
      insert into api_keys (id, name, scope, policies, secret_hash, limits)
      values (${id}, ${name}, ${scope}, ${policies}, ${hashSecret(secret)}, ${limits === null ? null : this.sql.json(limits)})
      returning id, name, scope, policies, limits, created_at as "createdAt", revoked_at as "revokedAt"`;
    return { ...row, secret };
  }

  list(): Promise<ApiKeyRow[]> {
    return this.sql<ApiKeyRow[]>`
      select id, name, scope, policies, limits, created_at as "createdAt", revoked_at as "revokedAt"
      from api_keys order by created_at`;
  }

  /** One key (revoked ones too), or null. */
  async get(id: string): Promise<ApiKeyRow | null> {
    const [row] = await this.sql<ApiKeyRow[]>`
      select id, name, scope, policies, limits, created_at as "createdAt", revoked_at as "revokedAt" from api_keys where id = ${id}`;
    return row ?? null;
  }

  /** Replaces the limits of a key that is not revoked (null removes them); answers the key, or null if none. */
  async setLimits(id: string, limits: KeyLimits | null): Promise<ApiKeyRow | null> {
    const [row] = await this.sql<ApiKeyRow[]>`
      update api_keys set limits = ${limits === null ? null : this.sql.json(limits)} where id = ${id} and revoked_at is null
      returning id, name, scope, policies, limits, created_at as "createdAt", revoked_at as "revokedAt"`;
    return row ?? null;
  }

  async revoke(id: string): Promise<boolean> {
    const r = await this.sql`update api_keys set revoked_at = now() where id = ${id} and revoked_at is null`;
    return r.count > 0;
  }

  /** The key holding `secret` (revoked ones too: a revoked token is never taken again), or null. */
  async holderOf(secret: string): Promise<{ id: string; revoked: boolean } | null> {
    const [row] = await this.sql<{ id: string; revoked: boolean }[]>`
      select id, revoked_at is not null as revoked from api_keys where secret_hash = ${hashSecret(secret)}`;
    return row ?? null;
  }

  /**
   * Stores a key with a given id and token (a configuration file's), stored hashed like a generated one. With
   * `replaces`, that key is revoked in the same transaction; its stored hash is made unique to it, so the new key
   * may keep the same token.
   */
  async importKey(
    id: string,
    k: { name: string; scope: Scope; policies?: string[] | null; limits?: KeyLimits | null },
    secret: string,
    replaces: string | null,
  ): Promise<ApiKeyRow & { revoked: string | null }> {
    return this.sql.begin(async (tx) => {
      const r = replaces
        ? await tx`update api_keys set revoked_at = now(), secret_hash = secret_hash || ':replaced-by:' || ${id}
                   where id = ${replaces} and revoked_at is null`
        : { count: 0 };
      const [row] = await tx<ApiKeyRow[]>`
        insert into api_keys (id, name, scope, policies, secret_hash, limits)
        values (${id}, ${k.name}, ${k.scope}, ${k.policies ?? null}, ${hashSecret(secret)}, ${k.limits ? tx.json(k.limits) : null})
        returning id, name, scope, policies, limits, created_at as "createdAt", revoked_at as "revokedAt"`;
      return { ...row, revoked: r.count > 0 ? replaces : null };
    });
  }

  async findBySecret(secret: string): Promise<Principal | null> {
    const [row] = await this.sql<{ id: string; name: string; scope: Scope; policies: string[] | null; limits: KeyLimits | null }[]>`
      select id, name, scope, policies, limits from api_keys
      where secret_hash = ${hashSecret(secret)} and revoked_at is null`;
    return row ? { keyId: row.id, owner: row.name, scope: row.scope, policies: row.policies, limits: row.limits } : null;
  }
}
