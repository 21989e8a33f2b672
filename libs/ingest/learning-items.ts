import { headIndex } from '@app/bandits';
import { type EventKind, type PolicyConfig, usageEventId } from '@app/contracts';
import { type LearningDelta } from '@app/learning';
import { decisionMarker, energyCorrectionMarker, energySlotMarker, eventMarker, type Marker, preferenceMarker, qualityMarker } from './markers.js';

/** A decision as learning sees it: the model it chose (a duel: the two it served) and its context. */
export interface LearningDecision {
  id: string;
  arm: string;
  /** A duel's two models (arms[0] = arm). */
  arms?: readonly string[] | null;
  x: readonly number[];
}

/** A learnt event as learning sees it (discriminated by `kind`); `arm` is the model it is about. */
export type LearningEvent =
  | { kind: 'feedback'; id: string; arm: string; reward: number }
  | { kind: 'pairwise'; id: string }
  | { kind: 'energy'; id: string; arm: string; joules: number; latencyMs: number | null }
  | { kind: 'usage'; id: string; arm: string; costUsd: number | null; latencyMs: number | null; estimateJ: number | null };

/**
 * How an item's outcome counts:
 * - `decision`: the decision-time A update; it closes the decision's learning pass;
 * - `event`: an event's learning; its outcome (applied, superseded, stale) is the event's final status;
 * - `estimate`: the proxy's provisional energy, secondary to its usage event (its outcome decides nothing), and
 *   yielding to any measured reading of the decision.
 */
export type ItemRole = 'decision' | 'event' | 'estimate';

/** What to claim when another claimer holds an item's marker. */
export type Fallback =
  /** Claim this item instead. */
  | { kind: 'item'; item: LearningItem }
  /**
   * A measured reading finding its decision's energy slot taken: if the proxy's estimate (event `estimate`)
   * holds it, correct that estimate once; otherwise (or if the correction is taken too) observe on its own.
   */
  | { kind: 'correctEstimate'; estimate: string; correction: (estimateJ: number) => LearningItem; otherwise: LearningItem };

/** One exactly-once unit of learning: the deltas to add if `claimer` claims `marker`. */
export interface LearningItem {
  marker: Marker;
  claimer: string;
  deltas: LearningDelta[];
  role: ItemRole;
  /** Without one, an item whose marker another claimer holds is superseded. */
  fallback?: Fallback;
}

/** The fields of a stored event row that learning reads. */
export interface StoredEventValues {
  id: string;
  kind: EventKind;
  arm: string | null;
  reward: number | null;
  joules: number | null;
  latencyMs: number | null;
  costUsd?: number | null;
}

/** A stored row as learning sees it; null when its kind's value is missing (nothing to learn). */
export function learningEvent(row: StoredEventValues, decisionArm: string): LearningEvent | null {
  const arm = row.arm ?? decisionArm;
  switch (row.kind) {
    case 'feedback':
      return row.reward === null ? null : { kind: 'feedback', id: row.id, arm, reward: row.reward };
    case 'pairwise':
      return { kind: 'pairwise', id: row.id };
    case 'energy':
      return row.joules === null ? null : { kind: 'energy', id: row.id, arm, joules: row.joules, latencyMs: row.latencyMs };
    case 'usage':
      return { kind: 'usage', id: row.id, arm, costUsd: row.costUsd ?? null, latencyMs: row.latencyMs, estimateJ: row.joules };
  }
}

/** The decision-time A update: a duel serves two models, and both get it. */
export function decisionItem(dec: LearningDecision): LearningItem {
  const arms = dec.arms?.length === 2 ? dec.arms : [dec.arm];
  return { marker: decisionMarker(dec.id), claimer: dec.id, deltas: arms.map((arm) => ({ kind: 'decision', arm, x: dec.x })), role: 'decision' };
}

/**
 * What one learnt event of a decision teaches, as exactly-once items: the worker claims them in Redis in arrival
 * order (EventApplier), a rebuild in a fixed precedence (LogFold). Pure: the same event, decision and policy give
 * the same items.
 */
export function learningItems(event: LearningEvent, dec: LearningDecision, policy: Pick<PolicyConfig, 'feedback'>): LearningItem[] {
  switch (event.kind) {
    case 'feedback':
      return [
        { marker: qualityMarker(policy, dec.id, event.id), claimer: event.id, deltas: [observe(event.arm, dec, 'quality', event.reward)], role: 'event' },
      ];
    case 'pairwise':
      // No additive delta: the durable row is the duel record each replica's sampler reads (ALGORITHMS.md §11).
      return [{ marker: preferenceMarker(policy, dec.id, event.id), claimer: event.id, deltas: [], role: 'event' }];
    case 'usage':
      return usageItems(event, dec);
    case 'energy':
      return [readingItem(event, dec)];
  }
}

/**
 * A proxied call: cost and latency are observations of the answering model; its provisional energy
 * (J/token × output tokens) fills the decision's energy slot, unless a measured reading got there first.
 */
function usageItems(u: LearningEvent & { kind: 'usage' }, dec: LearningDecision): LearningItem[] {
  const deltas: LearningDelta[] = [];
  if (u.costUsd !== null) deltas.push(observe(u.arm, dec, 'cost', u.costUsd));
  if (u.latencyMs !== null) deltas.push(observe(u.arm, dec, 'latency', u.latencyMs));
  const usage: LearningItem = { marker: eventMarker(u.id), claimer: u.id, deltas, role: 'event' };
  if (u.estimateJ === null) return [usage];
  const estimate: LearningItem = { marker: energySlotMarker(dec.id), claimer: u.id, deltas: [observe(u.arm, dec, 'energy', u.estimateJ)], role: 'estimate' };
  return [estimate, usage];
}

/**
 * A measured reading: it takes the decision's energy slot; if the proxy's estimate holds the slot, it corrects
 * that estimate once (b += (R − E₀)x, no new observation); otherwise it is an observation of its own. Whatever
 * the arrival order, the state ends the same: the readings count, the estimate only until the first.
 */
function readingItem(r: LearningEvent & { kind: 'energy' }, dec: LearningDecision): LearningItem {
  const latency = r.latencyMs === null ? [] : [observe(r.arm, dec, 'latency', r.latencyMs)];
  const item = (marker: Marker, energy: LearningDelta, fallback?: Fallback): LearningItem => ({
    marker,
    claimer: r.id,
    deltas: [energy, ...latency],
    role: 'event',
    ...(fallback ? { fallback } : {}),
  });
  const own = item(eventMarker(r.id), observe(r.arm, dec, 'energy', r.joules));
  const correction = (estimateJ: number) =>
    item(
      energyCorrectionMarker(dec.id),
      { kind: 'correction', arm: r.arm, x: dec.x, head: headIndex.energy, value: r.joules - estimateJ },
      { kind: 'item', item: own },
    );
  return item(energySlotMarker(dec.id), observe(r.arm, dec, 'energy', r.joules), {
    kind: 'correctEstimate',
    estimate: usageEventId(dec.id),
    correction,
    otherwise: own,
  });
}

const observe = (arm: string, dec: LearningDecision, head: keyof typeof headIndex, value: number): LearningDelta => ({
  kind: 'observation',
  arm,
  x: dec.x,
  head: headIndex[head],
  value,
});

/** Items in the order of their claimers' ids (code points): the last tie-break of a decision's competing events. */
export const byClaimer = (a: LearningItem, b: LearningItem): number => (a.claimer < b.claimer ? -1 : a.claimer > b.claimer ? 1 : 0);
