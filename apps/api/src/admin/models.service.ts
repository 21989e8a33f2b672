import { Inject, Injectable } from '@nestjs/common';
import { isRouterName, type Model, type ModelConfig, type ModelPatch, type Principal, ROUTER_NAME_TAKEN, routerPolicyName } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG, Logger } from '@app/infra';
import { ModelsRepository } from '@app/persistence';
import { RegistryStore } from '@app/store';
import { type ApiEnv } from '../config.js';
import { breakerId } from '../breakers/breaker-id.js';
import { BreakerService } from '../breakers/breakers.service.js';
import { withAllowedKeyEnv } from '../proxy/upstream-key.js';
import { PolicyCache } from '../routing/policy-cache.service.js';

/**
 * The model registry: Postgres is the record, Redis the replicas' copy; each model shown with its breaker. Every
 * write is logged with its actor and the fields it set (not their values: a base URL may carry credentials).
 */
@Injectable()
export class ModelsService {
  private readonly log: Logger;

  constructor(
    private readonly models: ModelsRepository,
    private readonly registry: RegistryStore,
    private readonly cache: PolicyCache,
    private readonly breakers: BreakerService,
    @Inject(CONFIG) private readonly env: ApiEnv,
    @Inject(Logger) logger: Logger,
  ) {
    this.log = logger.child('models');
  }

  async put(id: string, config: ModelConfig, actor: Principal): Promise<Model> {
    if (isRouterName(id)) throw new DomainError('VALIDATION', ROUTER_NAME_TAKEN, [{ path: 'id', message: ROUTER_NAME_TAKEN }]);
    const m = await this.models.upsert(id, withAllowedKeyEnv(config, this.env.UPSTREAM_KEY_ENV_PREFIX));
    this.log.info('model replaced', { model: id, actor: actor.keyId, fields: Object.keys(config) });
    await this.publish(m);
    return m;
  }

  /** Sets the given fields and keeps the others; the result must pass the same checks as a PUT of it. */
  async patch(id: string, patch: ModelPatch, actor: Principal): Promise<Model> {
    const prefix = this.env.UPSTREAM_KEY_ENV_PREFIX;
    withAllowedKeyEnv(patch, prefix);
    // The stored half is checked too: a model stored before the prefix rule keeps failing until it is fixed.
    const r = await this.models.update(id, (stored) => withAllowedKeyEnv({ ...stored, ...patch }, prefix));
    if (!r) throw modelNotFound(id);
    this.log.info('model updated', { model: id, actor: actor.keyId, fields: Object.keys(patch) });
    await this.publish(r.after);
    return r.after;
  }

  async list() {
    await this.breakers.refresh();
    return (await this.models.list()).map((m) => ({ ...m, ...this.breakersOf(m.id) }));
  }

  async get(id: string) {
    const m = await this.models.get(id);
    if (!m) throw modelNotFound(id);
    await this.breakers.refresh();
    return { ...m, ...this.breakersOf(m.id) };
  }

  /** A model's breaker, and its embeddings calls' breaker once one of those has failed. */
  private breakersOf(id: string) {
    const embeddings = this.breakers.state(breakerId(id, 'embeddings'));
    const touched = embeddings.state !== 'closed' || embeddings.failures > 0;
    return { breaker: this.breakers.state(id), ...(touched ? { embeddingsBreaker: embeddings } : {}) };
  }

  async delete(id: string, actor: Principal): Promise<void> {
    const r = await this.models.deleteUnlessUsed(id);
    // A cascade's escalation policy takes its arms from its router: the router is where to remove it.
    const users = [...new Set(r.usedBy.map(routerPolicyName))];
    if (users.length > 0) throw new DomainError('MODEL_IN_USE', `model ${id} is an arm of ${users.join(', ')}; remove it there first`);
    if (!r.deleted) throw modelNotFound(id);
    this.log.info('model deleted', { model: id, actor: actor.keyId });
    await this.registry.removeModel(id);
  }

  private async publish(m: Model): Promise<void> {
    await this.registry.putModel(m);
    await this.cache.refresh().catch(() => undefined);
  }
}

const modelNotFound = (id: string) => new DomainError('MODEL_NOT_FOUND', `model ${id} does not exist`);
