import { headIndex } from '@app/bandits';
import { type DecisionRecord, type EnergyJob, type FeedbackJob, type Policy, storableText, type UsageJob } from '@app/contracts';
import { type LearningDelta, sumDeltas } from '@app/learning';
import { type DecisionsRepository, type EventRow, type EventsRepository, type PoliciesRepository } from '@app/persistence';
import { type BatchItem, type DecisionHotStore, ITEM_STATUS, type PolicyStateStore } from '@app/store';
import { decisionMarker, energyCorrectionMarker, energySlotMarker, eventMarker, preferenceMarker, qualityMarker, usageEventId } from './markers.js';
import { type ModelEnergyEstimator } from './model-energy-estimator.js';
import { type Rebuilder } from './rebuilder.js';

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

interface Pending {
  item: BatchItem;
  deltas: LearningDelta[];
  /** 'aux': a secondary item of an event (its outcome does not decide the event's final status). */
  kind: 'decision' | 'event' | 'aux';
  id: string;
  /** What to try instead when the marker belongs to another claimer (otherwise: superseded). */
  next?: () => Promise<Pending>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The worker's learning pass over one micro-batch (DESIGN.md §2, step 3):
 * join events with their decisions → persist decisions and events (idempotent on their ids) → apply the
 * additive deltas of everything not yet applied to the Redis state in one Lua call per policy, exactly once →
 * close the pass in Postgres. Safe to re-run on the same input at any point (a killed worker's jobs are retried).
 */
export class EventApplier {
  private readonly policyCache = new Map<string, { at: number; policy: Policy | null }>();

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
    const outcome: BatchOutcome = { orphans: [], applied: 0, superseded: 0, stale: 0, late: 0 };
    const decisions = new Map<string, DecisionRecord>(input.decisions.map((d) => [d.id, d]));
    await this.join(input, decisions);

    const rows: EventRow[] = [];
    const joined = (id: string | undefined) => (id === undefined ? undefined : decisions.get(id));
    for (const f of input.feedback) {
      const dec = joined(f.decisionId);
      if (!dec) {
        outcome.orphans.push(f.eventId);
        continue;
      }
      const policy = await this.policy(dec.policy);
      rows.push({
        id: f.eventId,
        kind: f.winner === undefined ? 'feedback' : 'pairwise',
        decisionId: dec.id,
        policy: dec.policy,
        epoch: dec.epoch,
        arm: dec.arm,
        status: this.isLate(policy, dec, f.receivedAt) ? 'late' : 'learned',
        reward: f.reward,
        joules: null,
        inputTokens: null,
        outputTokens: null,
        latencyMs: null,
        model: null,
        payload: f.winner === undefined ? null : { winner: f.winner },
        receivedAt: f.receivedAt,
      });
    }
    for (const e of input.energy) {
      const dec = joined(e.decisionId);
      if (e.decisionId !== undefined && !dec) {
        outcome.orphans.push(e.eventId);
        continue;
      }
      const policy = dec ? await this.policy(dec.policy) : null;
      // A duel's reading names which of its two models it measured (checked at the edge).
      const arm = dec && dec.mode === 'duel' && e.model && dec.arms?.includes(e.model) ? e.model : dec?.arm;
      rows.push({
        id: e.eventId,
        kind: 'energy',
        decisionId: dec?.id ?? null,
        policy: dec?.policy ?? null,
        epoch: dec?.epoch ?? null,
        arm: arm ?? null,
        status: !dec ? 'model' : this.isLate(policy, dec, e.receivedAt) ? 'late' : 'learned',
        reward: null,
        joules: e.joules,
        inputTokens: e.inputTokens ?? null,
        outputTokens: e.outputTokens ?? null,
        latencyMs: e.latencyMs ?? null,
        model: arm ?? e.model ?? null,
        payload: e.gpu || e.measuredAt ? { gpu: e.gpu, measuredAt: e.measuredAt } : null,
        receivedAt: e.receivedAt,
      });
    }

    for (const u of input.usage ?? []) {
      const dec = joined(u.decisionId);
      if (!dec) {
        outcome.orphans.push(u.eventId);
        continue;
      }
      // The answering model (a fallback may differ from the decision's first choice) gets the observation.
      const arm = u.model === dec.arm || dec.arms?.includes(u.model) ? u.model : dec.arm;
      rows.push({
        id: u.eventId,
        kind: 'usage',
        decisionId: dec.id,
        policy: dec.policy,
        epoch: dec.epoch,
        arm,
        status: u.answered ? 'learned' : 'stale',
        reward: null,
        joules: u.energyEstimateJ ?? null,
        inputTokens: u.inputTokens,
        outputTokens: u.outputTokens,
        latencyMs: u.latencyMs,
        costUsd: u.costUsd,
        model: u.model,
        // Upstream error texts are not ours: make them storable (a refused row would fail the whole batch).
        payload: { ttftMs: u.ttftMs, attempts: u.attempts.map((a) => ({ ...a, error: a.error === null ? null : storableText(a.error) })) },
        receivedAt: u.receivedAt,
      });
    }

    const decisionFlags = await this.decisions.insertMany([...decisions.values()]);
    const eventFlags = await this.events.insertMany(rows);

    // Everything whose learning pass is not done yet, grouped by policy.
    const byPolicy = new Map<string, Pending[]>();
    const push = (policy: string, p: Pending) => {
      const list = byPolicy.get(policy);
      if (list) list.push(p);
      else byPolicy.set(policy, [p]);
    };
    for (const dec of decisions.values()) {
      if (decisionFlags.get(dec.id) !== false) continue;
      push(dec.policy, {
        item: { marker: decisionMarker(dec.id), claimer: dec.id, epoch: dec.epoch },
        // A duel serves two models: both get the decision-time A update.
        deltas: (dec.mode === 'duel' && dec.arms?.length === 2 ? dec.arms : [dec.arm]).map((arm) => ({ kind: 'decision' as const, arm, x: dec.x })),
        kind: 'decision',
        id: dec.id,
      });
    }
    const modelReadings: { id: string; model: string }[] = [];
    for (const row of rows) {
      const flag = eventFlags.get(row.id);
      if (!flag || flag.applied) continue;
      if (flag.status === 'model') {
        if (row.model) modelReadings.push({ id: row.id, model: row.model });
        continue;
      }
      if (flag.status !== 'learned') continue;
      const dec = decisions.get(row.decisionId!)!;
      const policy = await this.policy(dec.policy);
      const deltas: LearningDelta[] = [];
      let marker = eventMarker(row.id);
      if (row.kind === 'feedback') {
        deltas.push({ kind: 'observation', arm: dec.arm, x: dec.x, head: headIndex.quality, value: row.reward! });
        if (policy) marker = qualityMarker(policy, dec.id, row.id);
      } else if (row.kind === 'usage') {
        const arm = row.arm ?? dec.arm;
        if (row.costUsd !== null && row.costUsd !== undefined) deltas.push({ kind: 'observation', arm, x: dec.x, head: headIndex.cost, value: row.costUsd });
        if (row.latencyMs !== null) deltas.push({ kind: 'observation', arm, x: dec.x, head: headIndex.latency, value: row.latencyMs });
        // The proxy's provisional energy (J/token × output tokens) fills the decision's energy slot, unless a
        // measured reading got there first.
        if (row.joules !== null)
          push(dec.policy, {
            item: { marker: energySlotMarker(dec.id), claimer: row.id, epoch: dec.epoch },
            deltas: [{ kind: 'observation', arm, x: dec.x, head: headIndex.energy, value: row.joules }],
            kind: 'aux',
            id: row.id,
          });
      } else if (row.kind === 'pairwise') {
        // No additive delta: the durable row is the duel record each replica's sampler reads (§11).
        if (policy) marker = preferenceMarker(policy, dec.id, row.id);
      } else {
        push(dec.policy, this.energyItem(row, dec));
        continue;
      }
      push(dec.policy, { item: { marker, claimer: row.id, epoch: dec.epoch }, deltas, kind: 'event', id: row.id });
    }
    outcome.late = rows.filter((r) => eventFlags.get(r.id)?.status === 'late').length;

    const doneDecisions: string[] = [];
    const doneEvents: string[] = [];
    const superseded: string[] = [];
    const stale: string[] = [];
    for (const [name, pending] of byPolicy) {
      const policy = await this.policy(name);
      if (!policy) {
        // Deleted policy: nothing to learn into; close the pass so the jobs finish.
        for (const p of pending) (p.kind === 'decision' ? doneDecisions : stale).push(p.id);
        continue;
      }
      const res = await this.applyToPolicy(policy, pending);
      for (const p of res.applied) if (p.kind !== 'aux') (p.kind === 'decision' ? doneDecisions : doneEvents).push(p.id);
      for (const p of res.superseded) if (p.kind !== 'aux') superseded.push(p.id);
      for (const p of res.stale) if (p.kind !== 'aux') (p.kind === 'decision' ? doneDecisions : stale).push(p.id);
      outcome.applied += res.applied.length;
    }
    if (modelReadings.length > 0) {
      // The estimate is a median of the stored readings: recomputing it is idempotent, nothing to claim.
      await this.modelEnergy.refresh([...new Set(modelReadings.map((r) => r.model))]);
      await this.events.markModelReadingsApplied(modelReadings.map((r) => r.id));
    }
    await this.decisions.markApplied(doneDecisions);
    await this.events.finish(doneEvents, superseded, stale);
    outcome.superseded = superseded.length;
    outcome.stale = stale.length;
    return outcome;
  }

  /**
   * A measured reading of a decision: it takes the decision's energy slot; if the proxy's estimate holds the slot,
   * it corrects that estimate once (b += (R − E₀)x, no new observation); otherwise it is an observation of its own.
   * Whatever the arrival order, the state ends the same: the readings count, the estimate only until the first.
   */
  private energyItem(row: EventRow, dec: DecisionRecord): Pending {
    const arm = row.arm ?? dec.arm;
    const latency: LearningDelta[] = row.latencyMs !== null ? [{ kind: 'observation', arm, x: dec.x, head: headIndex.latency, value: row.latencyMs }] : [];
    const as = (marker: string, energy: LearningDelta): Pending => ({ item: { marker, claimer: row.id, epoch: dec.epoch }, deltas: [energy, ...latency], kind: 'event', id: row.id });
    const own = () => as(eventMarker(row.id), { kind: 'observation', arm, x: dec.x, head: headIndex.energy, value: row.joules! });
    const slot = as(energySlotMarker(dec.id), { kind: 'observation', arm, x: dec.x, head: headIndex.energy, value: row.joules! });
    slot.next = async () => {
      const owner = await this.store.markerOwner(this.store.policyTarget(dec.policy), energySlotMarker(dec.id));
      const estimate = owner === usageEventId(dec.id) ? await this.events.joulesOf(owner) : null;
      if (estimate === null) return own();
      const fix = as(energyCorrectionMarker(dec.id), { kind: 'correction', arm, x: dec.x, head: headIndex.energy, value: row.joules! - estimate });
      fix.next = async () => own();
      return fix;
    };
    return slot;
  }

  /** Fills `decisions` with every decision the events reference: Redis hot copies first, then Postgres. */
  private async join(input: BatchInput, decisions: Map<string, DecisionRecord>): Promise<void> {
    const wanted = new Set<string>();
    for (const f of input.feedback) if (!decisions.has(f.decisionId)) wanted.add(f.decisionId);
    for (const e of input.energy) if (e.decisionId !== undefined && !decisions.has(e.decisionId)) wanted.add(e.decisionId);
    for (const u of input.usage ?? []) if (!decisions.has(u.decisionId)) wanted.add(u.decisionId);
    if (wanted.size === 0) return;
    const ids = [...wanted];
    const hot = await this.hot.getMany(ids);
    const missing: string[] = [];
    ids.forEach((id, i) => {
      const rec = hot[i];
      if (rec) decisions.set(id, rec);
      else missing.push(id);
    });
    if (missing.length > 0) for (const [id, rec] of await this.decisions.getMany(missing)) decisions.set(id, rec);
  }

  private isLate(policy: Policy | null, dec: DecisionRecord, receivedAt: number): boolean {
    return policy !== null && receivedAt > dec.createdAt + policy.feedback.windowSeconds * 1000;
  }

  private async policy(name: string): Promise<Policy | null> {
    const hit = this.policyCache.get(name);
    if (hit && Date.now() - hit.at < 1000) return hit.policy;
    const policy = await this.policies.get(name);
    this.policyCache.set(name, { at: Date.now(), policy });
    return policy;
  }

  /**
   * One atomic Lua call applies the summed deltas if every item is applicable; otherwise it reports each item's
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
      const deltas = sumDeltas(policy.features.dim, left.flatMap((p) => p.deltas.filter((d) => d.x.length === policy.features.dim)));
      const res = await this.store.apply(target, left.map((p) => p.item), deltas);
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
        await this.rebuilder.rebuild(policy.name);
        continue;
      }
      const next: Pending[] = [];
      for (let i = 0; i < res.statuses.length; i++) {
        const s = res.statuses[i];
        const p = left[i];
        if (s === ITEM_STATUS.applicable) next.push(p);
        else if (s === ITEM_STATUS.alreadyApplied) applied.push(p);
        else if (s === ITEM_STATUS.claimedByOther) {
          if (p.next) next.push(await p.next());
          else superseded.push(p);
        } else if (s === ITEM_STATUS.claimedInBatch) later.push(p);
        else stale.push(p);
      }
      left = next;
    }
    return { applied, superseded, stale };
  }
}
