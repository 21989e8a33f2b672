import { Inject, Injectable } from '@nestjs/common';
import { type CreateKeyInput } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG, Logger, REDIS, type RedisClient } from '@app/infra';
import { KeysRepository } from '@app/persistence';
import { KeyRevocations } from '@app/store';
import { type ApiEnv } from '../config.js';

/** API keys: created with their secret shown once (stored hashed), listed, revoked on every replica at once. */
@Injectable()
export class KeysService {
  private readonly revocations: KeyRevocations;
  private readonly log: Logger;

  constructor(
    private readonly keys: KeysRepository,
    @Inject(REDIS) redis: RedisClient,
    @Inject(CONFIG) env: ApiEnv,
    @Inject(Logger) logger: Logger,
  ) {
    this.revocations = new KeyRevocations(redis, env.REDIS_PREFIX);
    this.log = logger.child('keys');
  }

  create(k: CreateKeyInput) {
    return this.keys.create(k.name, k.scope, k.policies ?? null);
  }

  list() {
    return this.keys.list();
  }

  /**
   * Revoked in Postgres (the authority), then announced to every replica's key cache through Redis. With Redis
   * away the revocation still holds: replicas refuse the key once their cached entry (30 s) expires.
   */
  async revoke(id: string): Promise<void> {
    if (!(await this.keys.revoke(id))) throw new DomainError('KEY_NOT_FOUND', `key ${id} does not exist or is revoked`);
    await this.revocations
      .announce(id)
      .catch((err: Error) => this.log.warn('key revoked but not announced (Redis away): replicas refuse it within 30 s', { keyId: id, error: err.message }));
  }
}
