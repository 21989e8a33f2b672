import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type CreateKeyInput, effectiveLimits, type KeyLimits, type PatchKeyInput, type Scope } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG, Logger, REDIS, type RedisClient } from '@app/infra';
import { KeysRepository } from '@app/persistence';
import { KeyRevocations } from '@app/store';
import { type ApiEnv } from '../config.js';
import { configKeyId } from '../config-file/plan.js';
import { assertOwnerName } from './key-owner.js';

/** API keys: created with their secret shown once (stored hashed), listed, revoked on every replica at once. */
@Injectable()
export class KeysService {
  private readonly revocations: KeyRevocations;
  private readonly log: Logger;
  private readonly defaults: KeyLimits | null;

  constructor(
    private readonly keys: KeysRepository,
    @Inject(REDIS) redis: RedisClient,
    @Inject(CONFIG) env: ApiEnv,
    @Inject(Logger) logger: Logger,
  ) {
    this.revocations = new KeyRevocations(redis, env.REDIS_PREFIX);
    this.log = logger.child('keys');
    this.defaults = env.KEY_DEFAULT_LIMITS ?? null;
  }

  /** A key as the admin API shows it: with `effectiveLimits`, what it is held to, when KEY_DEFAULT_LIMITS is set. */
  private shown<R extends { scope: Scope; limits?: KeyLimits | null }>(row: R): R & { effectiveLimits?: KeyLimits | null } {
    return this.defaults ? { ...row, effectiveLimits: effectiveLimits(row.scope, row.limits, this.defaults) } : row;
  }

  async create(k: CreateKeyInput) {
    assertOwnerName(k);
    return this.shown(await this.keys.create(k.name, k.scope, k.policies ?? null, k.limits ?? null));
  }

  /**
   * Replaces a live key's limits (`null` removes them). Replicas apply the change when their cached entry for the
   * key expires (30 s after its last lookup).
   */
  async update(id: string, patch: PatchKeyInput) {
    const row = await this.keys.setLimits(id, patch.limits);
    if (!row) throw new DomainError('KEY_NOT_FOUND', `key ${id} does not exist or is revoked`);
    this.log.info('key limits changed', { keyId: id, limits: patch.limits });
    return this.shown(row);
  }

  async list() {
    return (await this.keys.list()).map((r) => this.shown(r));
  }

  /**
   * A key of a configuration file, with its token: stored as `cfg:<handle>:<random>`; the key it replaces (same
   * handle, other token or fields) is revoked at once and announced like DELETE /admin/keys/{id}.
   */
  async importKey(handle: string, k: CreateKeyInput, token: string, replaces: string | null) {
    assertOwnerName(k);
    const row = await this.keys.importKey(configKeyId(handle, randomBytes(4).toString('hex')), k, token, replaces);
    if (row.revoked) await this.announce(row.revoked);
    return row;
  }

  /**
   * Revoked in Postgres (the authority), then announced to every replica's key cache through Redis. With Redis
   * away the revocation still holds: replicas refuse the key once their cached entry (30 s) expires.
   */
  async revoke(id: string): Promise<void> {
    if (!(await this.keys.revoke(id))) throw new DomainError('KEY_NOT_FOUND', `key ${id} does not exist or is revoked`);
    await this.announce(id);
  }

  private async announce(id: string): Promise<void> {
    await this.revocations
      .announce(id)
      .catch((err: Error) => this.log.warn('key revoked but not announced (Redis away): replicas refuse it within 30 s', { keyId: id, error: err.message }));
  }
}
