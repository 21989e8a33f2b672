import { Injectable } from '@nestjs/common';
import { Logger } from '@app/infra';
import { ModelEnergyEstimator, Rebuilder } from '@app/ingest';
import { ModelsRepository, PoliciesRepository } from '@app/persistence';
import { RegistryStore } from '@app/store';

const REPUBLISH_EVERY_MS = 5000;

/**
 * Puts back in Redis what a flush or a restart without AOF took away, from the Postgres record: the registry of
 * policies and models, a policy's learning state (rebuilt from the log), the model energy estimates. The
 * replica's PolicyCache only reads; it reports what it found missing here.
 */
@Injectable()
export class StateRepair {
  private lastRepublish = 0;
  private readonly rebuilding = new Set<string>();
  private estimating = false;
  private readonly log: Logger;

  constructor(
    private readonly registry: RegistryStore,
    private readonly policies: PoliciesRepository,
    private readonly models: ModelsRepository,
    private readonly rebuilder: Rebuilder,
    private readonly estimator: ModelEnergyEstimator,
    logger: Logger,
  ) {
    this.log = logger.child('state-repair');
  }

  /**
   * Every 5 s (and at once when the registry is empty) re-publishes whatever the registry lacks or holds in an
   * older version, so a flushed Redis does not make policies disappear. A Postgres outage skips it.
   */
  async republishRegistry(): Promise<void> {
    const now = Date.now();
    const cached = await this.registry.policies();
    if (cached.length > 0 && now - this.lastRepublish < REPUBLISH_EVERY_MS) return;
    this.lastRepublish = now;
    let policies, models;
    try {
      [policies, models] = await Promise.all([this.policies.list(), this.models.list()]);
    } catch {
      return;
    }
    const have = new Map(cached.map((p) => [p.name, p.version]));
    for (const p of policies) if ((have.get(p.name) ?? -1) < p.version) await this.registry.putPolicy(p);
    const haveModels = new Set((await this.registry.models()).map((m) => m.id));
    for (const m of models) if (!haveModels.has(m.id)) await this.registry.putModel(m);
  }

  /** A policy's state hash is gone: rebuild it from the log in the background (once at a time). */
  policyStateMissing(name: string): void {
    if (this.rebuilding.has(name)) return;
    this.rebuilding.add(name);
    this.log.warn('policy state missing in Redis; rebuilding it from the durable log', { policy: name });
    void this.rebuilder
      .rebuild(name)
      .then((r) => this.log.info('policy state rebuilt', { policy: name, decisions: r.decisions, events: r.events }))
      .catch((err: unknown) => this.log.warn('rebuild failed; will retry', { policy: name, error: (err as Error).message }))
      .finally(() => this.rebuilding.delete(name));
  }

  /** The model energy estimates were never computed in this Redis: compute them from the log. */
  modelEnergyMissing(): void {
    if (this.estimating) return;
    this.estimating = true;
    void this.estimator
      .refresh(null)
      .catch((err: unknown) => this.log.warn('model energy estimate failed; will retry', { error: (err as Error).message }))
      .finally(() => (this.estimating = false));
  }
}
