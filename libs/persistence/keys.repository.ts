import { createHash, randomBytes } from 'node:crypto';
import { type Principal, type Scope } from '@app/contracts';
import { type Sql } from './db.js';

export interface ApiKeyRow {
  id: string;
  name: string;
  scope: Scope;
  policies: string[] | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** API keys: secrets are returned once at creation and stored as SHA-256 only. */
export class KeysRepository {
  constructor(private readonly sql: Sql) {}

  async create(name: string, scope: Scope, policies: string[] | null): Promise<ApiKeyRow & { secret: string }> {
    const id = `key_${randomBytes(8).toString('hex')}`;
    const secret = `rk_${randomBytes(24).toString('base64url')}`;
    const [row] = await this.sql<ApiKeyRow[]>`
      insert into api_keys (id, name, scope, policies, secret_hash)
      values (${id}, ${name}, ${scope}, ${policies}, ${hashSecret(secret)})
      returning id, name, scope, policies, created_at as "createdAt", revoked_at as "revokedAt"`;
    return { ...row, secret };
  }

  list(): Promise<ApiKeyRow[]> {
    return this.sql<ApiKeyRow[]>`
      select id, name, scope, policies, created_at as "createdAt", revoked_at as "revokedAt"
      from api_keys order by created_at`;
  }

  async revoke(id: string): Promise<boolean> {
    const r = await this.sql`update api_keys set revoked_at = now() where id = ${id} and revoked_at is null`;
    return r.count > 0;
  }

  async findBySecret(secret: string): Promise<Principal | null> {
    const [row] = await this.sql<{ id: string; name: string; scope: Scope; policies: string[] | null }[]>`
      select id, name, scope, policies from api_keys
      where secret_hash = ${hashSecret(secret)} and revoked_at is null`;
    return row ? { keyId: row.id, owner: row.name, scope: row.scope, policies: row.policies } : null;
  }
}
