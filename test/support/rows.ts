import { type DecisionRecord } from '@app/contracts';
import { type EventRow } from '@app/persistence';

/** A fixed instant for stored rows in repository tests. */
export const T = 1_700_000_000_000;

/** A learned feedback row of decision d1 (policy p, epoch 1, arm a); `extra` overrides any column. */
export const eventRow = (id: string, extra: Partial<EventRow> = {}): EventRow => ({
  id,
  kind: 'feedback',
  decisionId: 'd1',
  policy: 'p',
  epoch: 1,
  arm: 'a',
  status: 'learned',
  reward: 0.5,
  joules: null,
  inputTokens: null,
  outputTokens: null,
  latencyMs: null,
  model: null,
  payload: null,
  receivedAt: T,
  ...extra,
});

/** A single-mode decision of policy p (epoch 1, arm a) with context `x`; `extra` overrides any field. */
export const decisionRecord = (id: string, x: number[], extra: Partial<DecisionRecord> = {}): DecisionRecord => ({
  id,
  policy: 'p',
  epoch: 1,
  policyVersion: 1,
  arm: 'a',
  armIndex: 0,
  propensity: 0.5,
  x,
  estimates: [],
  owner: 'o',
  mode: 'single',
  createdAt: T,
  ...extra,
});
