import { Injectable } from '@nestjs/common';
import { HEADS } from '@app/bandits';
import { type Objective, type Policy, type PolicyConfig, type Principal } from '@app/contracts';
import { DomainError } from '@app/errors';
import { Rebuilder } from '@app/ingest';
import { EventsRepository, ModelsRepository, PoliciesRepository } from '@app/persistence';
import { PolicyStateStore, RegistryStore } from '@app/store';
import { unpackArmStats } from '@app/bandits';
import { PolicyCache } from '../routing/policy-cache.service.js';

/** A change of algorithm or feature space makes the old statistics meaningless: start a new epoch. */
const needsNewEpoch = (before: PolicyConfig, after: PolicyConfig) =>
  before.algorithm !== after.algorithm || before.features.dim !== after.features.dim || before.features.source !== after.features.source;

@Injectable()
export class PoliciesService {
  constructor(
    private readonly policies: PoliciesRepository,
    private readonly models: ModelsRepository,
    private readonly events: EventsRepository,
    private readonly registry: RegistryStore,
    private readonly state: PolicyStateStore,
    private readonly rebuilder: Rebuilder,
    private readonly cache: PolicyCache,
  ) {}

  async put(name: string, config: PolicyConfig, actor: Principal): Promise<Policy & { created: boolean }> {
    const known = new Set((await this.models.list()).map((m) => m.id));
    const missing = config.arms.map((a, i) => ({ a, i })).filter(({ a }) => !known.has(a));
    if (missing.length > 0)
      throw new DomainError(
        'UNKNOWN_ARM',
        `register every arm first (PUT /admin/models/{id}): ${missing.map((m) => m.a).join(', ')}`,
        missing.map(({ i }) => ({ path: `arms.${i}`, message: 'not a registered model' })),
      );
    const { policy, created, epochChanged } = await this.policies.put(name, config, actor.keyId, (before) => needsNewEpoch(before, config));
    if (created || epochChanged) await this.state.replace(this.state.policyTarget(name), policy.epoch, new Map());
    await this.publish(policy);
    return { ...policy, created };
  }

  async get(name: string): Promise<Policy> {
    const p = await this.policies.get(name);
    if (!p) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    return p;
  }

  list(): Promise<Policy[]> {
    return this.policies.list();
  }

  async delete(name: string, actor: Principal): Promise<void> {
    if (!(await this.policies.delete(name, actor.keyId))) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    await this.registry.removePolicy(name);
    await this.state.dropPolicy(name);
    await this.cache.refresh().catch(() => undefined);
  }

  /** The trade-off: new weights act on the next decisions of every replica; learning state is kept. */
  async patchObjective(name: string, patch: Partial<Objective>, actor: Principal): Promise<Policy> {
    const p = await this.policies.update(name, actor.keyId, 'objective', (c) => ({ ...c, objective: { ...c.objective, ...patch } }));
    if (!p) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    await this.publish(p);
    return p;
  }

  async reset(name: string, actor: Principal): Promise<Policy> {
    const p = await this.policies.update(name, actor.keyId, 'reset', (c) => c, true);
    if (!p) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    await this.state.replace(this.state.policyTarget(name), p.epoch, new Map());
    await this.publish(p);
    return p;
  }

  async rebuild(name: string, actor: Principal) {
    const r = await this.rebuilder.rebuild(name);
    await this.policies.recordAudit(name, 'rebuild', actor.keyId, r);
    await this.cache.refresh().catch(() => undefined);
    return { policy: name, epoch: r.epoch, eventsReplayed: r.decisions + r.events, decisions: r.decisions, events: r.events };
  }

  async stats(name: string) {
    const p = await this.get(name);
    const st = await this.state.read(this.state.policyTarget(name));
    const d = p.features.dim;
    const per = p.arms.map((arm) => {
      const blob = st.arms.get(arm);
      const s = blob ? unpackArmStats(blob, d) : null;
      const mean = (h: number) => (s && s.obs[h] > 0 ? s.sum[h] / s.obs[h] : null);
      const count = (h: number) => (s ? s.obs[h] : 0);
      return {
        model: arm,
        pulls: s?.pulls ?? 0,
        quality: { mean: mean(0), count: count(0) },
        energyJoules: { mean: mean(1), count: count(1) },
        costUsd: { mean: mean(2), count: count(2) },
        latencyMs: { mean: mean(3), count: count(3) },
      };
    });
    const decisions = per.reduce((s, a) => s + a.pulls, 0);
    let events: Record<string, number> | null = null;
    try {
      events = await this.events.counts(name, p.epoch);
    } catch {
      events = null; // Postgres away: learning stats still come from Redis
    }
    return {
      policy: name,
      version: p.version,
      epoch: p.epoch,
      stateSeq: st.seq,
      objective: p.objective,
      decisions,
      feedback: per.reduce((s, a) => s + a.quality.count, 0),
      energyReadings: per.reduce((s, a) => s + a.energyJoules.count, 0),
      events,
      heads: HEADS,
      arms: per.map((a) => ({ ...a, share: decisions > 0 ? a.pulls / decisions : 0 })),
    };
  }

  auditTrail(name: string) {
    return this.policies.auditTrail(name);
  }

  private async publish(p: Policy): Promise<void> {
    await this.registry.putPolicy(p);
    await this.cache.refresh().catch(() => undefined);
  }
}
