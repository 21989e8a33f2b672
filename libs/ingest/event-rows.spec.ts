import { type DecisionRecord, type UsageJob } from '@app/contracts';
import { eventRow } from './event-rows.js';

const usage = (over: Partial<UsageJob> = {}): UsageJob => ({
  eventId: 'usage:direct:abc',
  keyId: 'key_1',
  model: 'small',
  answered: true,
  inputTokens: 7,
  outputTokens: 4,
  costUsd: 0.001,
  energyEstimateJ: 2,
  latencyMs: 30,
  ttftMs: 10,
  attempts: [{ model: 'small', ok: true, status: 200, error: null, ms: 30 }],
  receivedAt: 1_700_000_000_000,
  ...over,
});

const dec: DecisionRecord = {
  id: 'dec_1',
  policy: 'p',
  epoch: 2,
  policyVersion: 1,
  arm: 'small',
  armIndex: 0,
  propensity: 0.9,
  x: [1],
  owner: 'o',
  mode: 'single',
  estimates: [],
  createdAt: 1_700_000_000_000,
};

describe('eventRow for usage events', () => {
  it('stores a direct call (no decision) as a `direct` row of its key: no policy, never learnt', () => {
    expect(eventRow({ kind: 'usage', data: usage() }, undefined, null)).toMatchObject({
      id: 'usage:direct:abc',
      kind: 'usage',
      decisionId: null,
      policy: null,
      epoch: null,
      arm: null,
      status: 'direct',
      inputTokens: 7,
      outputTokens: 4,
      costUsd: 0.001,
      joules: 2,
      model: 'small',
      keyId: 'key_1',
      payload: { ttftMs: 10, answered: true },
    });
    expect(eventRow({ kind: 'usage', data: usage({ answered: false, costUsd: null }) }, undefined, null)).toMatchObject({
      status: 'direct',
      payload: { answered: false },
    });
  });

  it("keeps a routed call's usage on its decision with the calling key, and orphans it without one", () => {
    const routed = usage({ eventId: 'usage:dec_1', decisionId: 'dec_1' });
    expect(eventRow({ kind: 'usage', data: routed }, dec, null)).toMatchObject({
      decisionId: 'dec_1',
      policy: 'p',
      epoch: 2,
      status: 'learned',
      keyId: 'key_1',
    });
    expect(eventRow({ kind: 'usage', data: routed }, undefined, null)).toBeNull();
    expect(eventRow({ kind: 'usage', data: { ...routed, keyId: undefined } }, dec, null)).toMatchObject({ keyId: null });
  });
});
