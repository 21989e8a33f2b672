/**
 * Event ids in each owner's own namespace. A caller's event id (or Idempotency-Key) is stored as
 * `<owner>|<id>`: '|' is not allowed in ids or key names, so one owner can neither claim another's ids nor
 * forge the service's own event ids (`usage:<decision>`, `default:<decision>`), which carry no '|'.
 */
const SEPARATOR = '|';

export const ownedEventId = (owner: string, eventId: string): string => `${owner}${SEPARATOR}${eventId}`;

/** The id as its caller gave it (the service's own ids unchanged). */
export const callerEventId = (stored: string): string => {
  const i = stored.indexOf(SEPARATOR);
  return i < 0 ? stored : stored.slice(i + 1);
};

/** The owner that posted an event, or null for the service's own events. */
export const eventOwner = (stored: string): string | null => {
  const i = stored.indexOf(SEPARATOR);
  return i < 0 ? null : stored.slice(0, i);
};

/** Prefix of the service's default-reward events: `default:<decision>`, one per decision, whoever sweeps. */
export const DEFAULT_REWARD_PREFIX = 'default:';

/** Event id of the synthetic default-reward feedback of a decision. */
export const defaultRewardEventId = (decisionId: string): string => `${DEFAULT_REWARD_PREFIX}${decisionId}`;
