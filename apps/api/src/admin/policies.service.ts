import { Injectable } from '@nestjs/common';
import { HEADS } from '@app/bandits';
import { armPrior, type Objective, type Policy, type PolicyConfig, type PolicyPrior, type PriorRequest, type Principal } from '@app/contracts';
import { featurize } from '@app/featurizer';
import { fitPrior, type PriorObservation } from '@app/learning';
import { DomainError } from '@app/errors';
import { Rebuilder } from '@app/ingest';
import { DeadLettersRepository, EventsRepository, ModelsRepository, PoliciesRepository } from '@app/persistence';
import { PolicyStateStore, RegistryStore } from '@app/store';
import { unpackArmStats } from '@app/bandits';
import { PolicyCache } from '../routing/policy-cache.service.js';
import { SequentialStateService } from '../routing/sequential-state.service.js';

/** A prior survives PUT for the arms still present, as long as the feature space is unchanged. */
function carriedPrior(before: Policy | null, after: PolicyConfig): PolicyPrior | undefined {
  if (!before?.prior || before.features.dim !== after.features.dim || before.features.source !== after.features.source) return undefined;
  const arms = Object.fromEntries(Object.entries(before.prior.arms).filter(([a]) => after.arms.includes(a)));
  return Object.keys(arms).length > 0 ? { ...before.prior, arms } : undefined;
}

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
    private readonly sequential: SequentialStateService,
    private readonly letters: DeadLettersRepository,
  ) {}

  async put(name: string, config: PolicyConfig, actor: Principal): Promise<Policy & { created: boolean }> {
    const before = await this.policies.get(name);
    const known = new Set((await this.models.list()).map((m) => m.id));
    const missing = config.arms.map((a, i) => ({ a, i })).filter(({ a }) => !known.has(a));
    if (missing.length > 0)
      throw new DomainError(
        'UNKNOWN_ARM',
        `register every arm first (PUT /admin/models/{id}): ${missing.map((m) => m.a).join(', ')}`,
        missing.map(({ i }) => ({ path: `arms.${i}`, message: 'not a registered model' })),
      );
    const stored: PolicyConfig & { prior?: PolicyPrior } = { ...config, prior: carriedPrior(before, config) };
    if (!stored.prior) delete stored.prior;
    const { policy, created, epochChanged } = await this.policies.put(name, stored, actor.keyId, (b) => needsNewEpoch(b, config));
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

  /**
   * PILOT warm start (ALGORITHMS.md §3): fits θ⁰ per arm on offline records featurised exactly like live requests,
   * capped at `maxWeight` pseudo-observations, and installs it on the policy (new version; learning state kept).
   * Preference records count as outcomes: the preferred model 1, the other 0 (½ each on a tie).
   */
  async installPrior(name: string, req: PriorRequest, actor: Principal): Promise<Policy> {
    const p = await this.get(name);
    const d = p.features.dim;
    const armIndex = new Map(p.arms.map((a, i) => [a, i]));
    const obs: PriorObservation[] = [];
    req.records.forEach((r, i) => {
      const x = this.priorContext(p, r, i);
      const arm = (field: string, model: string) => {
        const a = armIndex.get(model);
        if (a === undefined)
          throw new DomainError('UNKNOWN_ARM', `${model} is not an arm of policy ${name}`, [
            { path: `records.${i}.${field}`, message: 'not an arm of this policy' },
          ]);
        return a;
      };
      if ('model' in r) obs.push({ arm: arm('model', r.model), x, r: r.score });
      else {
        const win = r.tie ? 0.5 : 1;
        obs.push({ arm: arm('preferred', r.preferred), x, r: win }, { arm: arm('other', r.other), x, r: 1 - win });
      }
    });
    const fitted = fitPrior(p.arms.length, d, obs, req.maxWeight);
    const prior: PolicyPrior = { installedAt: new Date().toISOString(), records: req.records.length, arms: {} };
    fitted.forEach((f, a) => {
      if (f) prior.arms[p.arms[a]] = { theta: Array.from(f.theta), weight: f.weight, records: f.records };
    });
    const next = await this.policies.update(name, actor.keyId, 'prior', (c) => ({ ...c, prior }) as PolicyConfig);
    if (!next) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    await this.publish(next);
    return next;
  }

  async removePrior(name: string, actor: Principal): Promise<Policy> {
    const next = await this.policies.update(name, actor.keyId, 'prior', (c) => {
      const { prior: _drop, ...rest } = c as PolicyConfig & { prior?: PolicyPrior };
      return rest;
    });
    if (!next) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    await this.publish(next);
    return next;
  }

  private priorContext(p: Policy, r: PriorRequest['records'][number], i: number): Float64Array {
    const d = p.features.dim;
    if (p.features.source === 'caller') {
      if (!r.features || r.features.length !== d)
        throw new DomainError('FEATURES_MISMATCH', `policy ${p.name} takes caller features of dim ${d}`, [
          { path: `records.${i}.features`, message: `must have exactly ${d} values` },
        ]);
      return Float64Array.from(r.features);
    }
    if (r.input === undefined)
      throw new DomainError('VALIDATION', `policy ${p.name} featurizes text`, [{ path: `records.${i}.input`, message: 'give the prompt text' }]);
    return featurize(r.input, d);
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
    const rt = this.cache.get(name);
    const trend = rt?.algorithm === 'ti-ucb' ? this.sequential.trend(rt) : null;
    const duel = rt?.algorithm === 'fgts-cdb' ? this.sequential.duel(rt) : null;
    const convergedAt = trend?.converged();
    const observations = trend?.pulls();
    const decisions = per.reduce((s, a) => s + a.pulls, 0);
    // Postgres away: learning stats still come from Redis, the log's counts are null.
    const [events, deadLettered] = await Promise.all([this.events.counts(name, p.epoch), this.letters.count(name)]).catch(() => [null, null] as const);
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
      deadLettered,
      heads: HEADS,
      ...(duel ? { duelRecords: duel.size } : {}),
      arms: per.map((a, i) => ({
        ...a,
        ...(trend ? { trend: { converged: convergedAt![i] !== null, convergedAtObservation: convergedAt![i], observations: observations![i] } } : {}),
        share: decisions > 0 ? a.pulls / decisions : 0,
        prior: ((ap) => (ap ? { weight: ap.weight, records: ap.records } : null))(armPrior(p.prior, a.model)),
      })),
      prior: p.prior ? { installedAt: p.prior.installedAt, records: p.prior.records, active: this.cache.get(name)?.model.priorActive ?? null } : null,
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
