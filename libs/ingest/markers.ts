import { type PolicyConfig } from '@app/contracts';

/**
 * The exactly-once key of each learning item, claimed by one claimer (a decision or an event id) in the
 * policy's marker hash. A decision's A update is keyed by the decision; an event's learning by the event; a
 * quality signal or a duel's preference, under "earliest" aggregation, by its decision (so only the first of a
 * decision is learnt, whichever worker sees it).
 *
 * A decision's energy slot (`n:`) holds the first energy value learnt for it: the proxy's provisional estimate
 * (J/token × output tokens, claimer `usage:<decision>`) or its first measured reading. A reading that finds the
 * estimate there corrects it once (`m:`); every further reading is an observation of its own (`e:`).
 */
const PREFIXES = {
  decision: 'd',
  event: 'e',
  quality: 'q',
  preference: 'p',
  energySlot: 'n',
  energyCorrection: 'm',
} as const;

export type MarkerKind = keyof typeof PREFIXES;
type Prefix = (typeof PREFIXES)[MarkerKind];
export type Marker = `${Prefix}:${string}`;

const marker = (kind: MarkerKind, id: string): Marker => `${PREFIXES[kind]}:${id}`;

export const decisionMarker = (decisionId: string) => marker('decision', decisionId);
export const eventMarker = (eventId: string) => marker('event', eventId);
export const qualityMarker = (cfg: Pick<PolicyConfig, 'feedback'>, decisionId: string, eventId: string) =>
  cfg.feedback.aggregation === 'earliest' ? marker('quality', decisionId) : eventMarker(eventId);
export const preferenceMarker = (cfg: Pick<PolicyConfig, 'feedback'>, decisionId: string, eventId: string) =>
  cfg.feedback.aggregation === 'earliest' ? marker('preference', decisionId) : eventMarker(eventId);
export const energySlotMarker = (decisionId: string) => marker('energySlot', decisionId);
export const energyCorrectionMarker = (decisionId: string) => marker('energyCorrection', decisionId);

const KINDS = new Map<string, MarkerKind>(Object.entries(PREFIXES).map(([kind, prefix]) => [prefix, kind as MarkerKind]));

/** What a marker keys: its kind and the decision or event id; null for a string that is no marker. */
export function parseMarker(m: string): { kind: MarkerKind; id: string } | null {
  const kind = m[1] === ':' ? KINDS.get(m[0]) : undefined;
  return kind === undefined ? null : { kind, id: m.slice(2) };
}

/** Whether a marker is keyed by a decision and claimed by one of its events (which one depends on arrival). */
export function isContested(m: Marker): boolean {
  const kind = parseMarker(m)?.kind;
  return kind !== 'decision' && kind !== 'event';
}
