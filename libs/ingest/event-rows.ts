import {
  type DecisionRecord,
  type EnergyJob,
  eventKindOf,
  type EventJobKind,
  type EventKind,
  type FeedbackJob,
  type KindedItem,
  type Policy,
  storableText,
  type UsageJob,
} from '@app/contracts';
import { type EventRow } from '@app/persistence';

/** A queued event (discriminated by `kind`). */
export type QueuedEvent = KindedItem<EventJobKind>;
/** An event's row and the decision it was joined with (none for a model-level reading). */
export type Joined = { row: EventRow; dec: DecisionRecord | undefined };

/** The rows of a batch's events, each with its decision; the ids of events whose decision exists nowhere. */
export function eventRows(events: readonly QueuedEvent[], decisions: Map<string, DecisionRecord>, policies: Map<string, Policy | null>) {
  const joined: Joined[] = [];
  const orphans: string[] = [];
  for (const e of events) {
    const dec = e.data.decisionId === undefined ? undefined : decisions.get(e.data.decisionId);
    const row = eventRow(e, dec, dec ? (policies.get(dec.policy) ?? null) : null);
    if (row) joined.push({ row, dec });
    else orphans.push(e.data.eventId);
  }
  return { joined, orphans };
}

/**
 * The row an event is stored as, joined with its decision; null when it names a decision that exists nowhere
 * (an orphan). Its status says whether it is learnt: `learned`, `late` (after the policy's feedback window),
 * `stale` (a proxied call that nothing answered, or whose stream ended early), `model` (a model-level reading, no decision) or `direct` (the
 * usage of a direct model call, no decision: kept for spend reports, never learnt).
 */
export function eventRow(e: QueuedEvent, dec: DecisionRecord | undefined, policy: Policy | null): EventRow | null {
  const kind = eventKindOf(e);
  switch (e.kind) {
    case 'feedback':
      return dec ? feedbackRow(e.data, kind, dec, policy) : null;
    case 'energy':
      return e.data.decisionId !== undefined && !dec ? null : energyRow(e.data, kind, dec, policy);
    case 'usage':
      if (e.data.decisionId === undefined) return directUsageRow(e.data, kind);
      return dec ? usageRow(e.data, kind, dec) : null;
  }
}

const isLate = (policy: Policy | null, dec: DecisionRecord, receivedAt: number) =>
  policy !== null && receivedAt > dec.createdAt + policy.feedback.windowSeconds * 1000;

function feedbackRow(f: FeedbackJob, kind: EventKind, dec: DecisionRecord, policy: Policy | null): EventRow {
  return {
    id: f.eventId,
    kind,
    decisionId: dec.id,
    policy: dec.policy,
    epoch: dec.epoch,
    arm: dec.arm,
    status: isLate(policy, dec, f.receivedAt) ? 'late' : 'learned',
    reward: f.reward,
    joules: null,
    inputTokens: null,
    outputTokens: null,
    latencyMs: null,
    model: null,
    payload: f.winner === undefined ? null : { winner: f.winner },
    receivedAt: f.receivedAt,
  };
}

function energyRow(e: EnergyJob, kind: EventKind, dec: DecisionRecord | undefined, policy: Policy | null): EventRow {
  // A duel's reading names which of its two models it measured (checked at the edge).
  const arm = dec && dec.mode === 'duel' && e.model && dec.arms?.includes(e.model) ? e.model : dec?.arm;
  return {
    id: e.eventId,
    kind,
    decisionId: dec?.id ?? null,
    policy: dec?.policy ?? null,
    epoch: dec?.epoch ?? null,
    arm: arm ?? null,
    status: !dec ? 'model' : isLate(policy, dec, e.receivedAt) ? 'late' : 'learned',
    reward: null,
    joules: e.joules,
    inputTokens: e.inputTokens ?? null,
    outputTokens: e.outputTokens ?? null,
    latencyMs: e.latencyMs ?? null,
    model: arm ?? e.model ?? null,
    payload: e.gpu || e.measuredAt ? { gpu: e.gpu, measuredAt: e.measuredAt } : null,
    receivedAt: e.receivedAt,
  };
}

function usageRow(u: UsageJob, kind: EventKind, dec: DecisionRecord): EventRow {
  // The answering model (a fallback may differ from the decision's first choice) gets the observation.
  const arm = u.model === dec.arm || dec.arms?.includes(u.model) ? u.model : dec.arm;
  return {
    id: u.eventId,
    kind,
    decisionId: dec.id,
    policy: dec.policy,
    epoch: dec.epoch,
    arm,
    status: u.answered ? 'learned' : 'stale',
    reward: null,
    ...usageValues(u),
  };
}

/** What a usage row records of the call, routed or direct. */
const usageValues = (u: UsageJob) => ({
  joules: u.energyEstimateJ ?? null,
  inputTokens: u.inputTokens,
  outputTokens: u.outputTokens,
  latencyMs: u.latencyMs,
  costUsd: u.costUsd,
  model: u.model,
  payload: usagePayload(u),
  receivedAt: u.receivedAt,
  keyId: u.keyId ?? null,
});

function directUsageRow(u: UsageJob, kind: EventKind): EventRow {
  return {
    id: u.eventId,
    kind,
    decisionId: null,
    policy: null,
    epoch: null,
    arm: null,
    status: 'direct',
    reward: null,
    ...usageValues(u),
  };
}

// Upstream error texts are not ours: make them storable (a refused row would fail the whole batch).
const usagePayload = (u: UsageJob) => ({
  ttftMs: u.ttftMs,
  answered: u.answered,
  attempts: u.attempts.map((a) => ({ ...a, error: a.error === null ? null : storableText(a.error) })),
});
