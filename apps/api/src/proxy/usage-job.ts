import { type Model, type UsageJob } from '@app/contracts';
import { type Attempt } from './upstream.js';

/** What a successful attempt measured. */
export interface Answered {
  model: string;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  ttftMs: number | null;
  /**
   * The stream ended early (the client left, or the upstream failed after bytes went out): what was forwarded is
   * charged to the key and stored, but it is not an answer the policy learns from.
   */
  partial?: true;
}

/**
 * An answer made upstream that the call could not use (too large, not JSON …) while another attempt's answer (or
 * another such answer) was recorded as the call's: what it cost is charged too, as its own usage event.
 */
export interface Wasted {
  model: Model;
  answered: Answered;
  attempt: Attempt;
}

/** Who a call's usage event belongs to: its event id, the decision (none for a direct call) and the calling key. */
export interface UsageOwner {
  eventId: string;
  decisionId?: string;
  keyId: string;
}

/**
 * The usage event of one proxied or direct call: tokens as the upstream reported them (or as forwarded, for a
 * partial answer), cost from the answering model's pricing, the registry's energy estimate (J/output token × output tokens), total latency, time to first
 * token and every attempt. `model` answered (`a`), or was the last one tried; `fallbackModel` when none was.
 */
export function usageJob(
  owner: UsageOwner,
  fallbackModel: string,
  model: Model | null,
  a: Answered | null,
  attempts: Attempt[],
  trace: Record<string, string>,
  now = Date.now(),
): UsageJob {
  const pricing = model?.pricing;
  return {
    eventId: owner.eventId,
    ...(owner.decisionId === undefined ? {} : { decisionId: owner.decisionId }),
    keyId: owner.keyId,
    model: a?.model ?? model?.id ?? fallbackModel,
    answered: a !== null && a.partial !== true,
    inputTokens: a?.inputTokens ?? 0,
    outputTokens: a?.outputTokens ?? 0,
    costUsd: a && pricing ? (pricing.inputPerMTok * a.inputTokens + pricing.outputPerMTok * a.outputTokens) / 1e6 : null,
    energyEstimateJ: a && model?.energy ? model.energy.joulesPerOutputToken * a.outputTokens : null,
    latencyMs: a?.latencyMs ?? attempts.reduce((s, x) => s + x.ms, 0),
    ttftMs: a?.ttftMs ?? null,
    attempts,
    receivedAt: now,
    trace,
  };
}

/**
 * The usage event of a wasted answer (see Wasted): the `n`-th of its call, with an id derived from the call's own
 * (so it is stored once whatever the retries), no decision (nothing is learnt from it), and not answered.
 */
export function wastedUsageJob(owner: UsageOwner, w: Wasted, n: number, trace: Record<string, string>, now = Date.now()): UsageJob {
  return usageJob(
    { eventId: `${owner.eventId}:unused:${n}`, keyId: owner.keyId },
    w.model.id,
    w.model,
    { ...w.answered, partial: true },
    [w.attempt],
    trace,
    now,
  );
}
