import { Injectable } from '@nestjs/common';
import { armStatsLength, HEADS, type Steps, unpackArmStats } from '@app/bandits';
import {
  armPrior,
  type Budget,
  budgetRefused,
  escalationPolicyName,
  isEscalationPolicyName,
  routerPolicyName,
  type Objective,
  type Policy,
  type PolicyConfig,
  type PolicyPrior,
  type PriorRequest,
  type Principal,
  sameFeatureSpace,
} from '@app/contracts';
import { FEATURIZER_VERSION, featurize } from '@app/featurizer';
import {
  addToStartSample,
  BUDGET_LIMITS,
  budgetStandings,
  budgetStartPricesSteps,
  type BudgetStartPrices,
  packStartSample,
  START_SAMPLE_KEY,
  unpackStartSample,
  withStartPrices,
  escalationPolicyConfig,
  noPendingSpend,
  type PriorObservation,
  refitPriorSteps,
  spendTotals,
  toPolicyPrior,
  measuredHeads,
} from '@app/learning';
import { DomainError } from '@app/errors';
import { Logger, runInSlices } from '@app/infra';
import { Rebuilder } from '@app/ingest';
import { DeadLettersRepository, EventsRepository, ModelsRepository, PoliciesRepository, PriorStatsRepository } from '@app/persistence';
import { PolicyStateStore, RegistryStore } from '@app/store';
import { PolicyCache } from '../routing/policy-cache.service.js';
import { armWarnings } from './arm-warnings.js';
import { newEscalationEpoch } from './escalation-epoch.js';
import { assertRouterFits } from './router-name.js';
import { SequentialStateService } from '../routing/sequential-state.service.js';
import { assertEmbeddingsModel, assertPriorSupported } from './embeddings-model.js';

/** A prior survives PUT for the arms still present, as long as the feature space is unchanged. */
function carriedPrior(before: Policy | null, after: PolicyConfig): PolicyPrior | undefined {
  if (!before?.prior || !sameFeatureSpace(before.features, after.features)) return undefined;
  const arms = Object.fromEntries(Object.entries(before.prior.arms).filter(([a]) => after.arms.includes(a)));
  return Object.keys(arms).length > 0 ? { ...before.prior, arms } : undefined;
}

/** The built-in featurizer's version recorded with the policy (whatever was sent): its statistics' feature space. */
const withFeaturizerVersion = (c: PolicyConfig): PolicyConfig => {
  if (c.features.source === 'builtin') return { ...c, features: { ...c.features, version: FEATURIZER_VERSION } };
  const { version: _v, ...features } = c.features;
  return { ...c, features };
};

/** A change of algorithm or feature space makes the old statistics meaningless: start a new epoch. */
const needsNewEpoch = (before: PolicyConfig, after: PolicyConfig) => before.algorithm !== after.algorithm || !sameFeatureSpace(before.features, after.features);

/** Whether records mapped onto `a` (arm indices, contexts) mean the same observations for `b`. */
const sameArmsAndFeatures = (a: PolicyConfig, b: PolicyConfig) =>
  a.arms.length === b.arms.length && a.arms.every((arm, i) => arm === b.arms[i]) && sameFeatureSpace(a.features, b.features);

/** An escalation policy follows its router: it is changed, reset or removed through the router only. */
function assertNotEscalation(name: string): void {
  if (isEscalationPolicyName(name))
    throw new DomainError('VALIDATION', `${name} is the escalation policy of a cascade: change its router (${routerPolicyName(name)}) instead`, [
      { path: 'name', message: 'an escalation policy follows its router' },
    ]);
}

/** JSON with object keys sorted (Postgres' jsonb reorders keys): equal values give equal strings. */
const sameObjective = (a: PolicyConfig, b: PolicyConfig) => HEADS.every((h) => a.objective[h] === b.objective[h]);

/** The budget's count without its start price (searched for an objective or prior that changed). */
const withoutStartPrices = (c: PolicyConfig): PolicyConfig => {
  const since = (c as PolicyConfig & Pick<Policy, 'budgetSince'>).budgetSince;
  return since ? ({ ...c, budgetSince: withStartPrices(since, undefined) } as PolicyConfig) : c;
};

const canonicalJson = (v: unknown): string =>
  JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => (a < b ? -1 : 1))) : val,
  );
/** The fields escalationPolicyConfig sets (to compare a stored escalation policy with the wanted one). */
const escalationFields = (c: PolicyConfig) =>
  canonicalJson([c.algorithm, c.arms, c.params, c.objective, c.scales ?? null, c.features.source, c.features.dim, c.feedback]);

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
    private readonly priorStats: PriorStatsRepository,
    logger: Logger,
  ) {
    this.log = logger.child('policies');
  }

  private readonly log: Logger;

  /**
   * Creates or replaces a router; with `cascade`, also its escalation policy (escalationPolicyConfig), which follows
   * the router's arms, objective and feature space from then on. Names ending in ESCALATION_SUFFIX are the service's.
   */
  async put(name: string, sent: PolicyConfig, actor: Principal): Promise<Policy & { created: boolean; warnings: string[] }> {
    assertRouterFits(name, sent);
    const { epochChanged, ...out } = await this.store(name, sent, actor);
    await this.syncEscalation(out, actor, epochChanged);
    return out;
  }

  /** The escalation policy of a router with a cascade, brought in line with the router (nothing when unchanged). */
  private async syncEscalation(router: Policy, actor: Principal, routerEpochChanged = false): Promise<void> {
    const name = escalationPolicyName(router.name);
    if (!router.cascade) {
      // No cascade (any more): its escalation policy and what it learnt go.
      if (await this.policies.delete(name, actor.keyId)) await this.dropFromStores(name);
      return;
    }
    const want = escalationPolicyConfig(router);
    const have = await this.policies.get(name);
    // Its one-hots follow the router's arm order, its context the router's feature space.
    const restart = routerEpochChanged || (have !== null && have.arms.join('\n') !== want.arms.join('\n'));
    if (have && !restart && escalationFields(have) === escalationFields(want)) return;
    await this.store(name, want, actor, restart);
  }

  private async store(
    name: string,
    sent: PolicyConfig,
    actor: Principal,
    forceEpoch = false,
  ): Promise<Policy & { created: boolean; epochChanged: boolean; warnings: string[] }> {
    const config = withFeaturizerVersion(sent);
    const before = await this.policies.get(name);
    const registered = await this.models.list();
    assertEmbeddingsModel(config.features, registered);
    const known = new Set(registered.map((m) => m.id));
    const missing = config.arms.map((a, i) => ({ a, i })).filter(({ a }) => !known.has(a));
    if (missing.length > 0)
      throw new DomainError(
        'UNKNOWN_ARM',
        `register every arm first (PUT /admin/models/{id}): ${missing.map((m) => m.a).join(', ')}`,
        missing.map(({ i }) => ({ path: `arms.${i}`, message: 'not a registered model' })),
      );
    const stored: PolicyConfig & { prior?: PolicyPrior; budgetSince?: Policy['budgetSince'] } = {
      ...config,
      prior: carriedPrior(before, config),
      budgetSince: await this.carriedBudgetSince(before, config),
    };
    if (!stored.prior) delete stored.prior;
    if (!stored.budgetSince) delete stored.budgetSince;
    const { policy, created, epochChanged } = await this.policies.put(name, stored, actor.keyId, (b) => forceEpoch || needsNewEpoch(b, config));
    if (created || epochChanged) await this.state.replace(this.state.policyTarget(name), policy.epoch, new Map());
    await this.publish(policy);
    return { ...policy, created, epochChanged, warnings: armWarnings(policy, registered) };
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
    assertNotEscalation(name);
    if (!(await this.policies.delete(name, actor.keyId))) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    await this.dropFromStores(name);
    // A router's escalation policy goes with it.
    const escalation = escalationPolicyName(name);
    if (await this.policies.delete(escalation, actor.keyId)) await this.dropFromStores(escalation);
    await this.cache.refresh().catch(() => undefined);
  }

  private async dropFromStores(name: string): Promise<void> {
    await this.registry.removePolicy(name);
    await this.state.dropPolicy(name);
  }

  /** The trade-off: new weights act on the next decisions of every replica; learning state is kept. */
  /**
   * Sets (or with null removes) the policy's budget. A budget paces the spend from now on: the state's spend totals
   * at this moment are stored with it (budgetSince), and the mean per request is counted from them.
   */
  async patchBudget(name: string, budget: Budget | null, actor: Principal): Promise<Policy> {
    assertNotEscalation(name);
    const current = await this.get(name);
    const refused = budget ? budgetRefused(current) : null;
    if (refused) throw new DomainError('VALIDATION', `policy ${name} cannot take a budget`, [{ path: 'budget', message: refused }]);
    const since = budget
      ? withStartPrices(await this.spendSnapshot(current), await this.startPrices({ ...current, budget }, await this.startSample(current)))
      : undefined;
    const p = await this.policies.update(name, actor.keyId, 'budget', (c) => {
      const { budget: _b, budgetSince: _s, ...rest } = c as PolicyConfig & { budgetSince?: unknown };
      return (budget ? { ...rest, budget, budgetSince: since } : rest) as PolicyConfig;
    });
    if (!p) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    await this.publish(p);
    return p;
  }

  /** A PUT that keeps the budget keeps its start; a new or changed budget starts counting now. */
  private async carriedBudgetSince(before: Policy | null, after: PolicyConfig): Promise<Policy['budgetSince']> {
    const budget = after.budget;
    if (!budget || !before) return undefined;
    const sameBudget = BUDGET_LIMITS.every(({ key }) => before.budget?.[key] === budget[key]);
    const sameArms = before.arms.length === after.arms.length && before.arms.every((a, i) => a === after.arms[i]);
    // Other arms change what the totals sum over: count from now, over the new arms.
    if (!sameBudget || !sameArms) return this.spendSnapshot({ ...before, arms: after.arms });
    // The start price was searched for the objective it was set under.
    return before.budgetSince && !sameObjective(before, after) ? withStartPrices(before.budgetSince, undefined) : before.budgetSince;
  }

  private async spendSnapshot(p: Policy): Promise<NonNullable<Policy['budgetSince']>> {
    const st = await this.state.read(this.state.policyTarget(p.name));
    const d = p.features.dim;
    // The arms the price counts over (the stored state of arms a PUT removed stays in Redis), in this epoch's layout:
    // a state another epoch left (a PUT that changed the feature space is being applied) counts nothing yet.
    const stats = p.arms.flatMap((arm) => {
      const blob = st.arms.get(arm);
      return blob && blob.length === armStatsLength(d) && st.epoch === p.epoch ? [unpackArmStats(blob, d)] : [];
    });
    return { epoch: p.epoch, ...spendTotals(stats) };
  }

  /**
   * Undoes the objective change recorded by one audit entry: the objective that entry replaced is restored (a new,
   * audited change: `revert`). 404 for an id that is not one of this policy's entries (an entry of an earlier policy
   * of the same name, deleted since, is not); 409 when the entry replaced no objective (a creation).
   */
  async revertObjective(name: string, auditId: string, actor: Principal): Promise<Policy> {
    assertNotEscalation(name);
    const entry = await this.policies.auditEntry(name, auditId);
    if (!entry || entry.earlier)
      throw new DomainError(
        'AUDIT_NOT_FOUND',
        `policy ${name} has no audit entry ${auditId}${entry ? ' (it is of an earlier policy of that name, deleted since)' : ''}`,
        [{ path: 'auditId', message: 'not an audit entry of this policy' }],
      );
    const objective = entry.before?.objective;
    const changed = objective !== undefined && JSON.stringify(objective) !== JSON.stringify(entry.after?.objective);
    if (!['objective', 'revert', 'replace'].includes(entry.action) || !changed)
      throw new DomainError('NOTHING_TO_REVERT', `audit entry ${auditId} (${entry.action}) changed no objective`, [
        { path: 'auditId', message: 'nothing to revert' },
      ]);
    const p = await this.policies.update(name, actor.keyId, 'revert', (c) => withoutStartPrices({ ...c, objective: { ...objective } }));
    if (!p) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    await this.publish(p);
    await this.syncEscalation(p, actor);
    return p;
  }

  async patchObjective(name: string, patch: Partial<Objective>, actor: Principal): Promise<Policy> {
    assertNotEscalation(name);
    const p = await this.policies.update(name, actor.keyId, 'objective', (c) => withoutStartPrices({ ...c, objective: { ...c.objective, ...patch } }));
    if (!p) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    await this.publish(p);
    await this.syncEscalation(p, actor);
    return p;
  }

  /**
   * PILOT warm start (ALGORITHMS.md §3): fits θ⁰ per arm on offline records featurised exactly like live requests,
   * capped at `maxWeight` pseudo-observations, and installs it on the policy (new version; learning state kept).
   * Preference records count as outcomes: the preferred model 1, the other 0 (½ each on a tie). The records'
   * statistics are stored beside the policy: with `append` this call's records are added to the ones uploaded
   * since the last replace and the prior is refitted over all of them (the same fit as one call with every
   * record); without it they replace them.
   */
  async installPrior(name: string, req: PriorRequest, actor: Principal): Promise<Policy> {
    assertNotEscalation(name);
    const p = await this.get(name);
    assertPriorSupported(p);
    // Validated and featurised before taking the row lock; again inside only if the policy changed meanwhile.
    const obs = await this.priorObservations(p, req);
    const next = await this.policies.update(name, actor.keyId, 'prior', async (c, tx) => {
      const previous = (c as PolicyConfig & { prior?: PolicyPrior }).prior;
      const stored = req.append && previous ? await this.priorStats.read(name, tx) : new Map<string, Float64Array>();
      const used = sameArmsAndFeatures(p, c) ? obs : await this.priorObservations({ ...c, name }, req);
      const d = c.features.dim;
      // Seconds of CPU at a large dim (O(records·d²) and O(arms·d³)): in slices, routes keep being answered.
      const { fitted, stats } = (await runInSlices(refitPriorSteps(c.arms, d, stored, used, req.maxWeight))).value;
      // The prompts a budget's start price is searched on: a bounded sample of every upload's distinct contexts.
      const sample = addToStartSample(unpackStartSample(stored.get(START_SAMPLE_KEY), d), [...new Set(used.map((o) => o.x))], d);
      stats.set(START_SAMPLE_KEY, packStartSample(sample, d));
      await this.priorStats.replace(name, stats, tx);
      const records = (stored.size > 0 && previous ? previous.records : 0) + req.records.length;
      const withPrior = { ...c, prior: toPolicyPrior(c.arms, fitted, records, new Date().toISOString()) } as PolicyConfig & Pick<Policy, 'budgetSince'>;
      if (!c.budget) return withPrior;
      const since = withPrior.budgetSince?.epoch === p.epoch ? withPrior.budgetSince : { epoch: p.epoch, ...noPendingSpend() };
      const variant: Policy = { ...p, ...withPrior, name: p.name, version: p.version, epoch: p.epoch };
      return { ...withPrior, budgetSince: withStartPrices(since, await this.startPrices(variant, sample.contexts)) } as PolicyConfig;
    });
    if (!next) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    await this.publish(next);
    return next;
  }

  /**
   * Where a budget's dual price starts (ALGORITHMS.md §10a, "starting price"): the policy `p` (with its prior and
   * budget), compiled from its current state, is asked at what price its greedy choices over the sample of its
   * prior uploads' prompts would spend each limit on average. None without a sample, or when the state cannot be
   * read (the price then starts from 0, as without a prior).
   */
  private async startPrices(p: Policy, contexts: readonly Float64Array[]): Promise<BudgetStartPrices | undefined> {
    if (!p.budget || contexts.length === 0) return undefined;
    try {
      return (await runInSlices(budgetStartPricesSteps(await this.cache.compileVariant(p), contexts))).value;
    } catch (err) {
      this.log.warn('budget start price not computed; the price starts from 0', { policy: p.name, error: (err as Error).message });
      return undefined;
    }
  }

  /** The stored sample of a policy's prior uploads (empty without uploads or at another dimension). */
  private async startSample(p: Policy): Promise<Float64Array[]> {
    if (!p.prior) return [];
    return unpackStartSample((await this.priorStats.read(p.name)).get(START_SAMPLE_KEY), p.features.dim).contexts;
  }

  /** Removes the prior and the statistics of its uploads (a later append starts afresh). */
  async removePrior(name: string, actor: Principal): Promise<Policy> {
    assertNotEscalation(name);
    const next = await this.policies.update(name, actor.keyId, 'prior', async (c, tx) => {
      await this.priorStats.clear(name, tx);
      const { prior: _drop, ...rest } = c as PolicyConfig & { prior?: PolicyPrior };
      // The start price came from the prior: without it the price starts from 0.
      return withoutStartPrices(rest);
    });
    if (!next) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    await this.publish(next);
    return next;
  }

  /**
   * The records as outcomes of the policy's arms (quality, and the cost, energy and latency a record measured);
   * 400 naming the record's field when one does not fit.
   */
  private async priorObservations(p: Pick<Policy, 'name' | 'arms' | 'features'>, req: PriorRequest): Promise<PriorObservation[]> {
    return (await runInSlices(this.priorObservationSteps(p, req))).value;
  }

  /** priorObservations in steps: one per record (its prompt featurised). */
  private *priorObservationSteps(p: Pick<Policy, 'name' | 'arms' | 'features'>, req: PriorRequest): Steps<PriorObservation[]> {
    const armIndex = new Map(p.arms.map((a, i) => [a, i]));
    const contexts = new Map<string, Float64Array>(); // the same prompt is often scored for every model
    const obs: PriorObservation[] = [];
    for (const [i, r] of req.records.entries()) {
      const x = this.priorContext(p, r, i, contexts);
      const arm = (field: string, model: string) => {
        const a = armIndex.get(model);
        if (a === undefined)
          throw new DomainError('UNKNOWN_ARM', `${model} is not an arm of policy ${p.name}`, [
            { path: `records.${i}.${field}`, message: 'not an arm of this policy' },
          ]);
        return a;
      };
      if ('model' in r) obs.push({ arm: arm('model', r.model), x, r: r.score, measured: measuredHeads(r) });
      else {
        const win = r.tie ? 0.5 : 1;
        obs.push({ arm: arm('preferred', r.preferred), x, r: win }, { arm: arm('other', r.other), x, r: 1 - win });
      }
      yield;
    }
    return obs;
  }

  private priorContext(p: Pick<Policy, 'name' | 'features'>, r: PriorRequest['records'][number], i: number, contexts: Map<string, Float64Array>): Float64Array {
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
    let x = contexts.get(r.input);
    if (!x) contexts.set(r.input, (x = featurize(r.input, d)));
    return x;
  }

  async reset(name: string, actor: Principal): Promise<Policy> {
    assertNotEscalation(name);
    const p = await this.policies.update(name, actor.keyId, 'reset', (c) => c, true);
    if (!p) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    await this.state.replace(this.state.policyTarget(name), p.epoch, new Map());
    await newEscalationEpoch({ policies: this.policies, state: this.state, registry: this.registry }, p, actor.keyId);
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
    const armStats = p.arms.map((arm) => {
      const blob = st.arms.get(arm);
      return blob ? unpackArmStats(blob, d) : null;
    });
    const per = p.arms.map((arm, i) => {
      const s = armStats[i];
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
      // From this replica's registry copy: stats answer while Postgres is away.
      warnings: armWarnings(
        p,
        p.arms.flatMap((a) => this.cache.model(a) ?? []),
      ),
      budgets: budgetStandings(
        p,
        armStats.filter((s) => s !== null),
      ).map(({ key, head: _head, ...standing }) => ({ budget: key, ...standing })),
      ...(duel ? { duelRecords: duel.size } : {}),
      arms: per.map((a, i) => ({
        ...a,
        ...(trend ? { trend: { converged: convergedAt![i] !== null, convergedAtObservation: convergedAt![i], observations: observations![i] } } : {}),
        share: decisions > 0 ? a.pulls / decisions : 0,
        prior: ((ap) =>
          ap
            ? {
                weight: ap.weight,
                records: ap.records,
                heads: Object.entries(ap.heads ?? {})
                  .flatMap(([h, t]) => (t?.length === p.features.dim ? [h] : []))
                  .sort(),
              }
            : null)(armPrior(p.prior, a.model)),
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
