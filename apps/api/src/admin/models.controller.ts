import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Put } from '@nestjs/common';
import { modelConfigSchema, modelPatchSchema, type Principal } from '@app/contracts';
import { Caller, RequireScope } from '../auth/scopes.js';
import { IdParam } from '../id-param.pipe.js';
import { parseOrThrow } from '../validation.js';
import { ModelsService } from './models.service.js';

@Controller('admin/models')
@RequireScope('admin')
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

  @Put(':id')
  put(@Caller() c: Principal, @Param('id', new IdParam('id')) id: string, @Body() body: unknown) {
    return this.models.put(id, parseOrThrow(modelConfigSchema, body ?? {}), c);
  }

  /** Partial update: the fields given replace the stored ones, the others stay. */
  @Patch(':id')
  patch(@Caller() c: Principal, @Param('id', new IdParam('id')) id: string, @Body() body: unknown) {
    return this.models.patch(id, parseOrThrow(modelPatchSchema, body ?? {}), c);
  }

  /** Each model with its circuit breaker (shared by all replicas): closed, or open since `openedAt`. */
  @Get()
  async list() {
    return { models: await this.models.list() };
  }

  @Get(':id')
  get(@Param('id', new IdParam('id')) id: string) {
    return this.models.get(id);
  }

  @Delete(':id')
  @HttpCode(204)
  delete(@Caller() c: Principal, @Param('id', new IdParam('id')) id: string) {
    return this.models.delete(id, c);
  }
}
