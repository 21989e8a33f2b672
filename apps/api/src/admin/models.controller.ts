import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put } from '@nestjs/common';
import { id as idSchema, modelConfigSchema } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG } from '@app/infra';
import { ModelsRepository } from '@app/persistence';
import { RegistryStore } from '@app/store';
import { RequireScope } from '../auth/scopes.js';
import { type ApiEnv } from '../config.js';
import { PolicyCache } from '../routing/policy-cache.service.js';
import { BreakerService } from '../proxy/breakers.service.js';
import { withAllowedKeyEnv } from '../proxy/upstream-key.js';
import { IdParam } from '../id-param.pipe.js';
import { parseOrThrow } from '../validation.js';

@Controller('admin/models')
@RequireScope('admin')
export class ModelsController {
  constructor(
    private readonly models: ModelsRepository,
    private readonly registry: RegistryStore,
    private readonly cache: PolicyCache,
    private readonly breakers: BreakerService,
    @Inject(CONFIG) private readonly env: ApiEnv,
  ) {}

  @Put(':id')
  async put(@Param('id', new IdParam('id')) id: string, @Body() body: unknown) {
    parseOrThrow(idSchema('id'), id, 'path');
    const config = withAllowedKeyEnv(parseOrThrow(modelConfigSchema, body ?? {}), this.env.UPSTREAM_KEY_ENV_PREFIX);
    const m = await this.models.upsert(id, config);
    await this.registry.putModel(m);
    await this.cache.refresh().catch(() => undefined);
    return m;
  }

  /** Each model with its circuit breaker (shared by all replicas): closed, or open since `openedAt`. */
  @Get()
  async list() {
    await this.breakers.refresh();
    return { models: (await this.models.list()).map((m) => ({ ...m, breaker: this.breakers.state(m.id) })) };
  }

  @Get(':id')
  async get(@Param('id', new IdParam('id')) id: string) {
    const m = await this.models.get(id);
    if (!m) throw new DomainError('MODEL_NOT_FOUND', `model ${id} does not exist`);
    await this.breakers.refresh();
    return { ...m, breaker: this.breakers.state(m.id) };
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id', new IdParam('id')) id: string) {
    const r = await this.models.deleteUnlessUsed(id);
    if (r.usedBy.length > 0) throw new DomainError('MODEL_IN_USE', `model ${id} is an arm of ${r.usedBy.join(', ')}; remove it there first`);
    if (!r.deleted) throw new DomainError('MODEL_NOT_FOUND', `model ${id} does not exist`);
    await this.registry.removeModel(id);
  }
}
