import { type PolicyConfig } from '@app/contracts';

/**
 * The exactly-once key of each learning item. A decision's A update is keyed by the decision; an energy reading
 * by its event; a quality signal by its event, or, under "earliest" aggregation, by its decision (so only the
 * first thumb of a decision is learnt, whichever worker sees it).
 */
export const decisionMarker = (decisionId: string) => `d:${decisionId}`;
export const eventMarker = (eventId: string) => `e:${eventId}`;
export const qualityMarker = (cfg: Pick<PolicyConfig, 'feedback'>, decisionId: string, eventId: string) =>
  cfg.feedback.aggregation === 'earliest' ? `q:${decisionId}` : `e:${eventId}`;
/**
 * A decision's energy slot: the first energy value learnt for it, either the proxy's provisional estimate
 * (J/token × output tokens, claimer `usage:<decision>`) or its first measured reading. A reading that finds the
 * estimate there corrects it once (`m:`); every further reading is an observation of its own (`e:`).
 */
export const energySlotMarker = (decisionId: string) => `n:${decisionId}`;
export const energyCorrectionMarker = (decisionId: string) => `m:${decisionId}`;
export const usageEventId = (decisionId: string) => `usage:${decisionId}`;

/** A duel's preference: like a quality signal, one per duel under "earliest" (its own namespace, `p:`). */
export const preferenceMarker = (cfg: Pick<PolicyConfig, 'feedback'>, decisionId: string, eventId: string) =>
  cfg.feedback.aggregation === 'earliest' ? `p:${decisionId}` : `e:${eventId}`;
