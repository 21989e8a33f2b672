import { Inject, Injectable } from '@nestjs/common';
import { type Model, type ModelConfig } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG } from '@app/infra';
import { ModelsRepository } from '@app/persistence';
import { RegistryStore } from '@app/store';
import { type ApiEnv } from '../config.js';
import { BreakerService } from '../breakers/breakers.service.js';
import { withAllowedKeyEnv } from '../proxy/upstream-key.js';
import { PolicyCache } from '../routing/policy-cache.service.js';

/** The model registry: Postgres is the record, Redis the replicas' copy; each model shown with its breaker. */
@Injectable()
export class ModelsService {
  constructor(
    private readonly models: ModelsRepository,
    private readonly registry: RegistryStore,
    private readonly cache: PolicyCache,
    private readonly breakers: BreakerService,
    @Inject(CONFIG) private readonly env: ApiEnv,
  ) {}

  async put(id: string, config: ModelConfig): Promise<Model> {
    const m = await this.models.upsert(id, withAllowedKeyEnv(config, this.env.UPSTREAM_KEY_ENV_PREFIX));
    await this.registry.putModel(m);
    await this.cache.refresh().catch(() => undefined);
    return m;
  }

  async list() {
    await this.breakers.refresh();
    return (await this.models.list()).map((m) => ({ ...m, breaker: this.breakers.state(m.id) }));
  }

  async get(id: string) {
    const m = await this.models.get(id);
    if (!m) throw new DomainError('MODEL_NOT_FOUND', `model ${id} does not exist`);
    await this.breakers.refresh();
    return { ...m, breaker: this.breakers.state(m.id) };
  }

  async delete(id: string): Promise<void> {
    const r = await this.models.deleteUnlessUsed(id);
    if (r.usedBy.length > 0) throw new DomainError('MODEL_IN_USE', `model ${id} is an arm of ${r.usedBy.join(', ')}; remove it there first`);
    if (!r.deleted) throw new DomainError('MODEL_NOT_FOUND', `model ${id} does not exist`);
    await this.registry.removeModel(id);
  }
}
