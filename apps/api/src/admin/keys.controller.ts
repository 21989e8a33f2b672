import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { createKeySchema } from '@app/contracts';
import { RequireScope } from '../auth/scopes.js';
import { IdParam } from '../id-param.pipe.js';
import { parseOrThrow } from '../validation.js';
import { KeysService } from './keys.service.js';

@Controller('admin/keys')
@RequireScope('admin')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

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

  @Delete(':id')
  @HttpCode(204)
  revoke(@Param('id', new IdParam('id')) id: string) {
    return this.keys.revoke(id);
  }
}
