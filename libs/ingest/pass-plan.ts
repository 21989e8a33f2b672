import { type DecisionRecord, type Policy } from '@app/contracts';
import { type StoredFlags } from '@app/persistence';
import { type Joined } from './event-rows.js';
import { byClaimer, decisionItem, type LearningItem, learningEvent, learningItems } from './learning-items.js';

/** A learning item to claim in its policy's state, with the epoch it belongs to. */
export interface Pending {
  item: LearningItem;
  epoch: number;
}

/** How the learning pass of each decision and event ends (what Postgres records). */
export interface Closing {
  decisions: string[];
  applied: string[];
  superseded: string[];
  stale: string[];
}

/** What a pass learns: the items per policy, and the passes it closes without learning. */
export interface Plan {
  byPolicy: Map<string, { policy: Policy; pending: Pending[] }>;
  /** Model-level readings (no decision): they move the model's energy estimate. */
  modelReadings: { id: string; model: string }[];
  /** Decisions and events of deleted policies: nothing to learn into; their passes close so the jobs finish. */
  closed: Closing;
}

/** What Postgres answered when the batch was stored: whether each decision's and event's pass is done. */
export interface PersistFlags {
  decisions: Map<string, boolean>;
  /** Per event id, as insertMany answers for the rows of `joined`, in order. */
  events: Map<string, StoredFlags>;
}

/**
 * The items of everything whose learning pass is not done yet, grouped by policy (decisions first, then events
 * in order of precedence: measured values before the proxy's estimates, then the first received, as a rebuild's
 * fold orders the events competing for one marker, so that the live pass and a rebuild let the same event claim
 * it: a feedback received within the window beats the default reward swept in the same pass); model-level readings apart; learnt rows of deleted policies closed as they are. Of an event id,
 * what Postgres stored is learnt, once: two requests may carry one id with other contents or decisions (accepted
 * concurrently), and the learnt state must stay the fold of the log.
 */
export function planPass(decisions: Map<string, DecisionRecord>, joined: readonly Joined[], flags: PersistFlags, policies: Map<string, Policy | null>): Plan {
  const plan: Plan = { byPolicy: new Map(), modelReadings: [], closed: { decisions: [], applied: [], superseded: [], stale: [] } };
  const push = (policy: Policy, dec: DecisionRecord, items: LearningItem[]) => {
    const entry = plan.byPolicy.get(policy.name) ?? { policy, pending: [] };
    plan.byPolicy.set(policy.name, entry);
    for (const item of items) entry.pending.push({ item, epoch: dec.epoch });
  };
  for (const dec of decisions.values()) {
    if (flags.decisions.get(dec.id) !== false) continue;
    const policy = policies.get(dec.policy);
    if (policy) push(policy, dec, [decisionItem(dec)]);
    else plan.closed.decisions.push(dec.id);
  }
  const planned = new Set<string>();
  const events: { policy: Policy; dec: DecisionRecord; item: LearningItem; receivedAt: number }[] = [];
  for (const { row: own, dec: joinedTo } of joined) {
    const flag = flags.events.get(own.id);
    if (!flag || flag.applied || planned.has(own.id)) continue;
    planned.add(own.id);
    // What the log holds of the id: this batch's copy, or the row stored before (with its own decision, when this
    // batch knows it; otherwise the pass that stored it, or its retry, learns it).
    const row = flag.stored ?? own;
    const dec = flag.stored ? (row.decisionId === null ? undefined : decisions.get(row.decisionId)) : joinedTo;
    if (flag.status === 'model' && row.model) plan.modelReadings.push({ id: row.id, model: row.model });
    if (flag.status !== 'learned' || !dec) continue;
    const policy = policies.get(dec.policy);
    const event = learningEvent(row, dec.arm);
    if (!policy) plan.closed.stale.push(row.id);
    else if (event) for (const item of learningItems(event, dec, policy)) events.push({ policy, dec, item, receivedAt: row.receivedAt });
  }
  const estimate = (e: { item: LearningItem }) => Number(e.item.role === 'estimate');
  events.sort((a, b) => estimate(a) - estimate(b) || a.receivedAt - b.receivedAt || byClaimer(a.item, b.item));
  for (const e of events) push(e.policy, e.dec, [e.item]);
  return plan;
}
