import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { createKeySchema } from '@app/contracts';
import { DomainError } from '@app/errors';
import { KeysRepository } from '@app/persistence';
import { RequireScope } from '../auth/scopes.js';
import { IdParam } from '../id-param.pipe.js';
import { parseOrThrow } from '../validation.js';

@Controller('admin/keys')
@RequireScope('admin')
export class KeysController {
  constructor(private readonly keys: KeysRepository) {}

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

  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id', new IdParam('id')) id: string) {
    if (!(await this.keys.revoke(id))) throw new DomainError('KEY_NOT_FOUND', `key ${id} does not exist or is revoked`);
  }
}
