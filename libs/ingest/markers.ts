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
/** A duel's preference: like a quality signal, one per duel under "earliest" (its own namespace, `p:`). */
export const preferenceMarker = (cfg: Pick<PolicyConfig, 'feedback'>, decisionId: string, eventId: string) =>
  cfg.feedback.aggregation === 'earliest' ? `p:${decisionId}` : `e:${eventId}`;
