import { type DecisionRecord, defaultRewardEventId, type Policy } from '@app/contracts';
import { eventRows } from './event-rows.js';
import { planPass } from './pass-plan.js';

const dec: DecisionRecord = {
  id: 'dec_1',
  policy: 'p',
  epoch: 1,
  policyVersion: 1,
  arm: 'small',
  armIndex: 0,
  propensity: 1,
  x: [1],
  owner: 'o',
  mode: 'single',
  estimates: [],
  createdAt: 1_000_000,
};
const policy = {
  name: 'p',
  arms: ['small'],
  features: { dim: 1 },
  feedback: { windowSeconds: 2, aggregation: 'earliest', defaultReward: 0 },
} as unknown as Policy;

describe('planPass', () => {
  it("lets the first received of a decision's feedback claim it, whatever the batch order (as a rebuild's fold does)", () => {
    // The sweep's default reward (received when the window closed) came into the batch before a thumb received
    // within the window (its request waited in the queue behind a flood).
    const swept = { kind: 'feedback' as const, data: { eventId: defaultRewardEventId(dec.id), decisionId: dec.id, reward: 0, receivedAt: 1_002_000 } };
    const thumb = { kind: 'feedback' as const, data: { eventId: 'evt_thumb', decisionId: dec.id, reward: 1, receivedAt: 1_001_700 } };
    const decisions = new Map([[dec.id, dec]]);
    const policies = new Map([['p', policy]]);
    const { joined } = eventRows([swept, thumb], decisions, policies);
    const flags = {
      decisions: new Map([[dec.id, true]]),
      events: new Map(joined.map((j) => [j.row.id, { status: 'learned' as const, applied: false, stored: null }])),
    };
    const pending = planPass(decisions, joined, flags, policies).byPolicy.get('p')!.pending;
    expect(pending.map((p) => [p.item.claimer, p.item.marker])).toEqual([
      ['evt_thumb', 'q:dec_1'],
      [defaultRewardEventId(dec.id), 'q:dec_1'],
    ]);
  });
});
