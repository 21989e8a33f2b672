import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { createKeySchema } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG, Logger, REDIS } from '@app/infra';
import { KeysRepository } from '@app/persistence';
import { KeyRevocations } from '@app/store';
import { type Redis } from 'ioredis';
import { RequireScope } from '../auth/scopes.js';
import { type ApiEnv } from '../config.js';
import { IdParam } from '../id-param.pipe.js';
import { parseOrThrow } from '../validation.js';

@Controller('admin/keys')
@RequireScope('admin')
export class KeysController {
  private readonly revocations: KeyRevocations;
  private readonly log: Logger;

  constructor(
    private readonly keys: KeysRepository,
    @Inject(REDIS) redis: Redis,
    @Inject(CONFIG) env: ApiEnv,
    @Inject(Logger) logger: Logger,
  ) {
    this.revocations = new KeyRevocations(redis, env.REDIS_PREFIX);
    this.log = logger.child('keys');
  }

  /** Returns the secret once; only its hash is stored. */
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    const k = parseOrThrow(createKeySchema, body);
    return this.keys.create(k.name, k.scope, k.policies ?? null);
  }

  @Get()
  async list() {
    return { keys: await this.keys.list() };
  }

  /**
   * Revoked in Postgres (the authority), then announced to every replica's key cache through Redis. With Redis
   * away the revocation still holds: replicas refuse the key once their cached entry (30 s) expires.
   */
  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id', new IdParam('id')) id: string) {
    if (!(await this.keys.revoke(id))) throw new DomainError('KEY_NOT_FOUND', `key ${id} does not exist or is revoked`);
    await this.revocations.announce(id).catch((err: Error) => this.log.warn('key revoked but not announced (Redis away): replicas refuse it within 30 s', { keyId: id, error: err.message }));
  }
}
