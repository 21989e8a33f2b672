import {
  type DecisionHead,
  type EnergyJob,
  energySchema,
  type EventKind,
  feedbackSchema,
  type PairwiseFeedbackJob,
  pairwiseSchema,
  type PointwiseFeedbackJob,
  type Principal,
  routerPolicyName,
} from '@app/contracts';
import { type FieldError } from '@app/errors';
import { mayUsePolicy } from '../auth/scopes.js';
import { issuesToErrors } from '../validation.js';

/** What the ingest endpoints take: every stored event kind but the proxy's own usage events. */
export type IntakeKind = Exclude<EventKind, 'usage'>;

interface PreparedIds {
  index: number;
  /** The stored id: the caller's id in the caller owner's namespace (see ownedEventId). */
  eventId: string;
  /** The id as the caller gave it (or as derived for it), answered back. */
  callerEventId: string;
}
/** An event that passed its schema, ready to be joined with its decision (discriminated by `kind`). */
export type Prepared = PreparedIds &
  (
    | { kind: 'feedback'; decisionId: string; job: PointwiseFeedbackJob }
    | { kind: 'pairwise'; decisionId: string; job: PairwiseFeedbackJob }
    | { kind: 'energy'; decisionId?: string; job: EnergyJob }
  );

export interface ItemProblem {
  status: number;
  /** The problem's type when its status alone does not say it (an event of the wrong kind for its decision's mode). */
  code?: 'WRONG_MODE';
  detail: string;
  errors: FieldError[];
}

/**
 * What feedback on the final answer of a cascade, sent to its last step's decision (which learns it as any event),
 * also teaches, each as an event of its own with an id derived from the caller's ('|' is outside the id alphabet,
 * so no caller id can claim one), queued in the same job and refused with its original:
 * - `|router`: the same reward for the router decision whose model gave the final answer (a reading too);
 * - `|step<k>`: the same reward for each earlier escalation decision of the request (escalating led here);
 * - `|censored<k>`: for the router decision of each answer an escalation hid, the escalation policy's estimate of
 *   that answer (decided with the step, stored with it): a decision never rated would count as a reward of 0.
 */
export function cascadeShares(p: Prepared, dec: DecisionHead | undefined): Prepared[] {
  const c = dec?.cascade;
  if (!c || p.decisionId === undefined || (p.kind !== 'feedback' && p.kind !== 'energy')) return [];
  const to = (suffix: string, decisionId: string, reward?: number): Prepared => {
    const eventId = `${p.eventId}|${suffix}`;
    if (p.kind === 'energy') return { ...p, eventId, decisionId, job: { ...p.job, eventId, decisionId } };
    const job = { ...p.job, eventId, decisionId, reward: reward ?? p.job.reward };
    return { ...p, kind: 'feedback', eventId, decisionId, job };
  };
  const out = [to('router', c.router)];
  if (p.kind !== 'feedback') return out;
  c.escalations.forEach((e, k) => {
    if (e.id !== dec.id) out.push(to(`step${k}`, e.id));
    out.push(to(`censored${k}`, e.censored, e.imputed));
  });
  return out;
}

/** Scopes trusted with any owner's decisions and with model-level readings (inference hosts, operators). */
const trusted = (caller: Principal) => caller.scope === 'admin' || caller.scope === 'telemetry';

/**
 * Parses one item with its kind's schema. Its id is the caller's, else one `callerId` derives or draws (once: the
 * id answered is the id stored), stored as `stored` makes it (in the caller owner's namespace).
 */
export function parseEvent(
  kind: IntakeKind,
  raw: unknown,
  index: number,
  receivedAt: number,
  callerId: (given?: string) => string,
  stored: (callerEventId: string) => string,
): Prepared | { problem: ItemProblem } {
  // Built as plain literals, without closures or spreads of the ids: this runs for every event of every batch,
  // and that form cost ~2 µs an item, four times the schema's own check.
  switch (kind) {
    case 'pairwise': {
      const r = pairwiseSchema.safeParse(raw);
      if (!r.success) return invalid('invalid pairwise feedback', r.error.issues);
      const { decisionId, winner } = r.data;
      const callerEventId = callerId(r.data.eventId);
      const eventId = stored(callerEventId);
      // reward (P(first model won)) is set once the decision's pair is known (checkAgainstDecision).
      return { index, eventId, callerEventId, kind, decisionId, job: { eventId, decisionId, reward: 0, winner, receivedAt } };
    }
    case 'feedback': {
      const r = feedbackSchema.safeParse(raw);
      if (!r.success) return invalid('invalid feedback', r.error.issues);
      const { decisionId, thumb } = r.data;
      const callerEventId = callerId(r.data.eventId);
      const eventId = stored(callerEventId);
      const reward = r.data.reward ?? (thumb === 'up' ? 1 : 0);
      return { index, eventId, callerEventId, kind, decisionId, job: { eventId, decisionId, reward, receivedAt } };
    }
    case 'energy': {
      const r = energySchema.safeParse(raw);
      if (!r.success) return invalid('invalid energy reading', r.error.issues);
      const callerEventId = callerId(r.data.eventId);
      const eventId = stored(callerEventId);
      return { index, eventId, callerEventId, kind, decisionId: r.data.decisionId, job: { ...r.data, eventId, receivedAt } };
    }
  }
}

const invalid = (detail: string, issues: Parameters<typeof issuesToErrors>[0]) => ({ problem: { status: 400, detail, errors: issuesToErrors(issues) } });

/**
 * Checks an event against the decision it names (and the caller's rights over it); fills a pairwise event's
 * reward. Another owner's decision is "not found", exactly as an unknown one. Null when the event may go on.
 */
export function checkAgainstDecision(caller: Principal, p: Prepared, dec: DecisionHead | undefined, modelExists: (id: string) => boolean): ItemProblem | null {
  if (p.kind === 'energy' && p.decisionId === undefined) {
    // A model-level reading moves the energy estimate every policy uses: only trusted scopes may post one.
    // energySchema guarantees a model when there is no decision.
    const model = p.job.model ?? '';
    if (!trusted(caller))
      return {
        status: 403,
        detail: 'readings without a decision need an admin or telemetry key',
        errors: [{ path: 'decisionId', message: 'required for route keys' }],
      };
    if (!modelExists(model)) return { status: 404, detail: `model ${model} is not registered`, errors: [{ path: 'model', message: 'unknown model' }] };
    return null;
  }
  if (!dec || (!trusted(caller) && dec.owner !== caller.owner) || !mayUsePolicy(caller, routerPolicyName(dec.policy)))
    return { status: 404, detail: `decision ${p.decisionId} not found`, errors: [{ path: 'decisionId', message: 'unknown decision' }] };
  if (p.kind === 'pairwise') return checkPairwise(p, dec);
  if (p.kind === 'energy' && dec.mode === 'duel') {
    // A duel ran two models: a reading must say which one it measured.
    const model = p.job.model;
    if (model && dec.arms?.includes(model)) return null;
    return {
      status: 400,
      detail: `decision ${p.decisionId} is a duel: name the measured model (${dec.arms?.join(' or ')})`,
      errors: [{ path: 'model', message: `one of ${dec.arms?.join(', ')}` }],
    };
  }
  if (dec.mode !== 'single')
    return {
      status: 400,
      code: 'WRONG_MODE',
      detail: `decision ${p.decisionId} is a ${dec.mode}; post pairwise feedback for it`,
      errors: [{ path: 'decisionId', message: 'wrong mode' }],
    };
  // A single decision ran one model: a reading naming another would be learnt as that one's, silently.
  if (p.kind === 'energy' && p.job.model !== undefined && p.job.model !== dec.arm)
    return {
      status: 400,
      detail: `decision ${p.decisionId} ran ${dec.arm}: a reading of it names that model or none`,
      errors: [{ path: 'model', message: `${dec.arm} or none` }],
    };
  return null;
}

function checkPairwise(p: Prepared & { kind: 'pairwise' }, dec: DecisionHead): ItemProblem | null {
  const pair = dec.mode === 'duel' ? dec.arms : undefined;
  if (!pair || pair.length !== 2)
    return {
      status: 400,
      code: 'WRONG_MODE',
      detail: `decision ${p.decisionId} is not a duel; post /v1/feedback for it`,
      errors: [{ path: 'decisionId', message: 'not a duel' }],
    };
  const winner = p.job.winner;
  if (winner !== 'tie' && !pair.includes(winner))
    return { status: 400, detail: `winner must be ${pair[0]}, ${pair[1]} or "tie"`, errors: [{ path: 'winner', message: `one of ${pair.join(', ')}, tie` }] };
  p.job.reward = winner === 'tie' ? 0.5 : winner === pair[0] ? 1 : 0;
  return null;
}
