import { parseEvent } from './event-intake.js';

// parseEvent: one item of a batch → the prepared event (ids drawn once, stored in the owner's namespace) or a 400.
describe('parseEvent', () => {
  const drawn: string[] = [];
  const callerId = (given?: string) => given ?? `ev_${drawn.push('x')}`;
  const stored = (id: string) => `acme|${id}`;

  it('prepares feedback: a reward, or a thumb as 1 / 0, under the caller id or one drawn once', () => {
    expect(parseEvent('feedback', { decisionId: 'dec_a', reward: 0.25, eventId: 'e-1' }, 3, 100, callerId, stored)).toEqual({
      index: 3,
      eventId: 'acme|e-1',
      callerEventId: 'e-1',
      kind: 'feedback',
      decisionId: 'dec_a',
      job: { eventId: 'acme|e-1', decisionId: 'dec_a', reward: 0.25, receivedAt: 100 },
    });
    const up = parseEvent('feedback', { decisionId: 'dec_a', thumb: 'up' }, 0, 7, callerId, stored);
    expect(up).toMatchObject({ eventId: 'acme|ev_1', callerEventId: 'ev_1', job: { eventId: 'acme|ev_1', reward: 1 } });
    expect(parseEvent('feedback', { decisionId: 'dec_a', thumb: 'down' }, 0, 7, callerId, stored)).toMatchObject({ job: { reward: 0 } });
    expect(drawn).toHaveLength(2);
  });

  it('prepares a duel outcome with its reward left for the decision check', () => {
    expect(parseEvent('pairwise', { decisionId: 'dec_d', winner: 'm2', eventId: 'p-1' }, 1, 5, callerId, stored)).toEqual({
      index: 1,
      eventId: 'acme|p-1',
      callerEventId: 'p-1',
      kind: 'pairwise',
      decisionId: 'dec_d',
      job: { eventId: 'acme|p-1', decisionId: 'dec_d', reward: 0, winner: 'm2', receivedAt: 5 },
    });
  });

  it('keeps every field of an energy reading', () => {
    const reading = { decisionId: 'dec_e', joules: 12.5, inputTokens: 10, outputTokens: 90, latencyMs: 40, gpu: 'H100', measuredAt: '2026-01-02T03:04:05Z' };
    expect(parseEvent('energy', { ...reading, eventId: 'r-1' }, 2, 9, callerId, stored)).toEqual({
      index: 2,
      eventId: 'acme|r-1',
      callerEventId: 'r-1',
      kind: 'energy',
      decisionId: 'dec_e',
      job: { ...reading, eventId: 'acme|r-1', receivedAt: 9 },
    });
  });

  it('answers a 400 naming the field, and draws no id, for an item its schema refuses', () => {
    const before = drawn.length;
    expect(parseEvent('feedback', { decisionId: 'dec_a', reward: 2 }, 0, 1, callerId, stored)).toMatchObject({
      problem: { status: 400, detail: 'invalid feedback', errors: [expect.objectContaining({ path: 'reward' })] },
    });
    expect(parseEvent('pairwise', { decisionId: 'dec_a' }, 0, 1, callerId, stored)).toMatchObject({
      problem: { status: 400, errors: [expect.objectContaining({ path: 'winner' })] },
    });
    expect(parseEvent('energy', { decisionId: 'dec_a', joules: -1 }, 0, 1, callerId, stored)).toMatchObject({
      problem: { status: 400, errors: [expect.objectContaining({ path: 'joules' })] },
    });
    expect(drawn).toHaveLength(before);
  });
});
