import { DomainError } from '@app/errors';
import { type DecisionRecord, type EnergyJob, type FeedbackJob, type Policy, type UsageJob } from '@app/contracts';
import { sumDeltas } from '@app/learning';
import { type DecisionsRepository, type EventsRepository, type PoliciesRepository, SettledDecisions } from '@app/persistence';
import { type DecisionHotStore, ITEM_STATUS, type PolicyStateStore } from '@app/store';
import { eventRows, type Joined, type QueuedEvent } from './event-rows.js';
import { type ModelEnergyEstimator } from './model-energy-estimator.js';
import { RecentDecisions } from './recent-decisions.js';
import { type Closing, type Pending, type PersistFlags, type Plan, planPass } from './pass-plan.js';
import { isRebuildUnderWay, type Rebuilder } from './rebuilder.js';

export interface BatchInput {
  decisions: DecisionRecord[];
  feedback: FeedbackJob[];
  energy: EnergyJob[];
  usage?: UsageJob[];
}

export interface BatchOutcome {
  /** Event ids whose decision exists nowhere (not in Redis, not in Postgres): permanent failures. */
  orphans: string[];
  applied: number;
  superseded: number;
  stale: number;
  late: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The events of a batch, in a fixed order (feedback, energy, usage). */
const queuedEvents = (input: BatchInput): QueuedEvent[] => [
  ...input.feedback.map((data): QueuedEvent => ({ kind: 'feedback', data })),
  ...input.energy.map((data): QueuedEvent => ({ kind: 'energy', data })),
  ...(input.usage ?? []).map((data): QueuedEvent => ({ kind: 'usage', data })),
];

/**
 * The worker's learning pass over one micro-batch (DESIGN.md §2, step 3):
 * join events with their decisions → persist decisions and events (idempotent on their ids) → plan the learning
 * items of everything not yet applied (learningItems, the rule a rebuild folds too) → add their deltas to the
 * Redis state in one atomic commit per policy, exactly once → close the pass in Postgres. Safe to re-run on the
 * same input at any point (a killed worker's jobs are retried).
 */
export class EventApplier {
  private readonly policyCache = new Map<string, { at: number; policy: Policy | null }>();
  /** Decisions stored in full and applied, which later passes need not look up (most feedback joins one). */
  private readonly settled = new SettledDecisions();
  private readonly recent = new RecentDecisions();

  constructor(
    private readonly policies: PoliciesRepository,
    private readonly decisions: DecisionsRepository,
    private readonly events: EventsRepository,
    private readonly hot: DecisionHotStore,
    private readonly store: PolicyStateStore,
    private readonly rebuilder: Rebuilder,
    private readonly modelEnergy: ModelEnergyEstimator,
  ) {}

  async apply(input: BatchInput): Promise<BatchOutcome> {
    const events = queuedEvents(input);
    const decisions = await this.join(input.decisions, events);
    const policies = await this.policiesOf(decisions.values());
    const { joined, orphans } = eventRows(events, decisions, policies);
    const flags = await this.persist(decisions, joined);
    const plan = planPass(decisions, joined, flags, policies);
    const { closing, applied } = await this.learn(plan);
    await this.close(plan, closing, decisions);
    const late = joined.filter(({ row }) => flags.events.get(row.id)?.status === 'late').length;
    return { orphans, applied, superseded: closing.superseded.length, stale: closing.stale.length, late };
  }

  /** Stores the decisions and event rows not stored yet; answers, for each, whether its learning pass is done. */
  private async persist(decisions: Map<string, DecisionRecord>, joined: readonly Joined[]): Promise<PersistFlags> {
    const stored = await this.decisions.insertMany([...decisions.values()], this.settled);
    return { decisions: stored, events: await this.events.insertMany(joined.map((j) => j.row)) };
  }

  /** Applies each policy's items; the outcome of every item but estimates closes its decision's or event's pass. */
  private async learn(plan: Plan): Promise<{ closing: Closing; applied: number }> {
    const closing: Closing = { decisions: [...plan.closed.decisions], applied: [], superseded: [], stale: [...plan.closed.stale] };
    let applied = 0;
    const closes = (list: Pending[]) => list.filter((p) => p.item.role !== 'estimate');
    for (const { policy, pending } of plan.byPolicy.values()) {
      const res = await this.applyToPolicy(policy, pending);
      for (const p of closes(res.applied)) (p.item.role === 'decision' ? closing.decisions : closing.applied).push(p.item.claimer);
      for (const p of closes(res.superseded)) closing.superseded.push(p.item.claimer);
      for (const p of closes(res.stale)) (p.item.role === 'decision' ? closing.decisions : closing.stale).push(p.item.claimer);
      applied += res.applied.length;
    }
    return { closing, applied };
  }

  private async close(plan: Plan, closing: Closing, decisions: ReadonlyMap<string, DecisionRecord>): Promise<void> {
    if (plan.modelReadings.length > 0) {
      // The estimate is a median of the stored readings: recomputing it is idempotent, nothing to claim.
      await this.modelEnergy.refresh([...new Set(plan.modelReadings.map((r) => r.model))]);
      await this.events.markModelReadingsApplied(plan.modelReadings.map((r) => r.id));
    }
    await this.decisions.markApplied(closing.decisions);
    // Stored with their estimates by this pass's persist (a record that has them fills a bare row in).
    for (const id of closing.decisions) if ((decisions.get(id)?.estimates.length ?? 0) > 0) this.settled.add(id);
    await this.events.finish(closing.applied, closing.superseded, closing.stale);
  }

  /**
   * The batch's decisions and every decision its events reference: those this worker saw lately first, then Redis
   * hot copies, then Postgres.
   */
  private async join(batch: readonly DecisionRecord[], events: readonly QueuedEvent[]): Promise<Map<string, DecisionRecord>> {
    const decisions = new Map<string, DecisionRecord>(batch.map((d) => [d.id, d]));
    // Kept as their hot copies are, without the estimates (only the durable log needs them: stored by this pass).
    for (const d of batch) this.recent.add(d.estimates.length === 0 ? d : { ...d, estimates: [] });
    const wanted = new Set<string>();
    for (const { data } of events) {
      const id = data.decisionId;
      if (id === undefined || decisions.has(id)) continue;
      const seen = this.recent.get(id);
      if (seen) decisions.set(id, seen);
      else wanted.add(id);
    }
    if (wanted.size === 0) return decisions;
    const ids = [...wanted];
    const hot = await this.hot.getMany(ids);
    const missing: string[] = [];
    ids.forEach((id, i) => {
      const rec = hot[i];
      if (rec) {
        decisions.set(id, rec);
        this.recent.add(rec);
      } else missing.push(id);
    });
    if (missing.length > 0) for (const [id, rec] of await this.decisions.getMany(missing)) decisions.set(id, rec);
    return decisions;
  }

  private async policiesOf(decisions: Iterable<DecisionRecord>): Promise<Map<string, Policy | null>> {
    const out = new Map<string, Policy | null>();
    for (const { policy } of decisions) if (!out.has(policy)) out.set(policy, await this.policy(policy));
    return out;
  }

  private async policy(name: string): Promise<Policy | null> {
    const hit = this.policyCache.get(name);
    if (hit && Date.now() - hit.at < 1000) return hit.policy;
    const policy = await this.policies.get(name);
    this.policyCache.set(name, { at: Date.now(), policy });
    return policy;
  }

  /**
   * One atomic commit applies the summed deltas if every item is applicable; otherwise it reports each item's
   * status and applies nothing, and the batch is re-summed without the items that must not count.
   */
  private async applyToPolicy(policy: Policy, pending: Pending[]) {
    const applied: Pending[] = [];
    const superseded: Pending[] = [];
    const stale: Pending[] = [];
    let left = pending;
    let later: Pending[] = [];
    const target = this.store.policyTarget(policy.name);
    for (let round = 0; left.length > 0 || later.length > 0; round++) {
      if (left.length === 0) {
        left = later;
        later = [];
      }
      if (round > 200) throw new Error(`policy ${policy.name}: state stayed busy or conflicting; the batch will be retried`);
      const deltas = sumDeltas(
        policy.features.dim,
        left.flatMap((p) => p.item.deltas.filter((d) => d.x.length === policy.features.dim)),
      );
      const res = await this.store.apply(
        target,
        left.map(({ item, epoch }) => ({ marker: item.marker, claimer: item.claimer, epoch })),
        deltas,
      );
      if (res.kind === 'applied') {
        applied.push(...left);
        left = [];
        continue;
      }
      if (res.kind === 'busy') {
        await sleep(50);
        continue;
      }
      if (res.kind === 'uninitialised') {
        try {
          await this.rebuilder.rebuild(policy.name);
        } catch (err) {
          // Deleted since the pass began: its items have nothing left to learn into (as for a deleted policy's
          // items when the pass was planned), and the rest of the pass goes on.
          if (err instanceof DomainError && err.code === 'POLICY_NOT_FOUND') {
            stale.push(...left, ...later);
            return { applied, superseded, stale };
          }
          // Another rebuild (an api replica's repair, another pass) is under way: wait for it, as for "busy".
          if (!isRebuildUnderWay(err)) throw err;
          await sleep(100);
        }
        continue;
      }
      const next: Pending[] = [];
      const taken: Pending[] = [];
      for (let i = 0; i < res.statuses.length; i++) {
        const s = res.statuses[i];
        const p = left[i];
        if (s === ITEM_STATUS.applicable) next.push(p);
        else if (s === ITEM_STATUS.alreadyApplied) applied.push(p);
        else if (s === ITEM_STATUS.claimedByOther) taken.push(p);
        else if (s === ITEM_STATUS.claimedInBatch) later.push(p);
        else stale.push(p);
      }
      const instead = await this.fallbacks(taken, policy.name);
      taken.forEach((p, i) => (instead[i] ? next.push(instead[i]) : superseded.push(p)));
      left = next;
    }
    return { applied, superseded, stale };
  }

  /**
   * What each item whose marker another claimer holds claims instead (null: it is superseded). The holders of the
   * markers asked about, and the estimates' joules, are read in one round trip each, whatever the number of items
   * (a flood of readings of a few decisions makes many).
   */
  private async fallbacks(taken: readonly Pending[], policy: string): Promise<(Pending | null)[]> {
    const asks = taken.filter((p) => p.item.fallback?.kind === 'correctEstimate');
    const owners = await this.store.markerOwners(
      this.store.policyTarget(policy),
      asks.map((p) => p.item.marker),
    );
    const holder = new Map(asks.map((p, i) => [p, owners[i]]));
    const estimates = asks.filter((p) => {
      const f = p.item.fallback;
      return f?.kind === 'correctEstimate' && holder.get(p) === f.estimate;
    });
    const joules = await this.events.joulesOfMany([...new Set(estimates.map((p) => holder.get(p)!))]);
    return taken.map((p) => {
      const f = p.item.fallback;
      if (!f) return null;
      if (f.kind === 'item') return { item: f.item, epoch: p.epoch };
      const h = holder.get(p);
      const estimate = h === f.estimate ? (joules.get(h) ?? null) : null;
      return { item: estimate === null ? f.otherwise : f.correction(estimate), epoch: p.epoch };
    });
  }
}
