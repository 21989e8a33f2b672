import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { createKeySchema, keyUsageQuerySchema, patchKeySchema } from '@app/contracts';
import { RequireScope } from '../auth/scopes.js';
import { IdParam } from '../id-param.pipe.js';
import { parseOrThrow } from '../validation.js';
import { KeyUsageService } from './key-usage.service.js';
import { KeysService } from './keys.service.js';

@Controller('admin/keys')
@RequireScope('admin')
export class KeysController {
  constructor(
    private readonly keys: KeysService,
    private readonly spend: KeyUsageService,
  ) {}

  /** Returns the secret once; only its hash is stored. */
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    return this.keys.create(parseOrThrow(createKeySchema, body));
  }

  @Get()
  async list() {
    return { keys: await this.keys.list() };
  }

  /** The key's calls per model in a window (`?from&to`, default the last 24 hours): requests, tokens, cost, energy. */
  @Get(':id/usage')
  usage(@Param('id', new IdParam('id')) id: string, @Query() query: unknown) {
    return this.spend.usage(id, parseOrThrow(keyUsageQuerySchema, query, 'query'));
  }

  /** Replaces the key's limits (`{"limits": null}` removes them). */
  @Patch(':id')
  update(@Param('id', new IdParam('id')) id: string, @Body() body: unknown) {
    return this.keys.update(id, parseOrThrow(patchKeySchema, body));
  }

  @Delete(':id')
  @HttpCode(204)
  revoke(@Param('id', new IdParam('id')) id: string) {
    return this.keys.revoke(id);
  }
}
