import { batchJobPayload, JOB, MIXED_EVENTS, mixedJobPayload, parseJob, protocolOfWorkerClient, workerNameFor, WORKER_PROTOCOL } from './job-kinds.js';

const feedback = { eventId: 'admin|f1', decisionId: 'dec_a', reward: 0.5, receivedAt: 1 };
const energy = { eventId: 'admin|e1', decisionId: 'dec_a', joules: 12, receivedAt: 2 };

describe('jobs carrying events of several kinds', () => {
  it('parse into the items of each kind, feedback then energy', () => {
    const data = mixedJobPayload([
      { kind: 'energy', data: energy },
      { kind: 'feedback', data: feedback },
    ]);
    expect(data).toEqual({ energy: [energy], feedback: [feedback] });
    expect(parseJob(MIXED_EVENTS.name, JSON.parse(JSON.stringify(data)))).toEqual({
      form: 'many',
      items: [
        { kind: 'feedback', data: feedback },
        { kind: 'energy', data: energy },
      ],
      refused: [],
    });
  });

  it('are invalid when empty or with an unknown kind', () => {
    expect(parseJob(MIXED_EVENTS.name, {}).form).toBe('invalid');
    expect(parseJob(MIXED_EVENTS.name, { feedback: [] }).form).toBe('invalid');
    expect(parseJob(MIXED_EVENTS.name, { feedback: [feedback], decisions: [] }).form).toBe('invalid');
    expect(parseJob(MIXED_EVENTS.name, { energy: 'x' }).form).toBe('invalid');
  });

  it('refuse an item of the wrong shape alone: the items beside it go on', () => {
    const usage = { eventId: 'admin|u1', model: 'm', outputTokens: 2.5e299 };
    const parsed = parseJob(MIXED_EVENTS.name, { energy: [feedback, energy], usage: [usage], feedback: [feedback] });
    expect(parsed).toMatchObject({
      form: 'many',
      items: [
        { kind: 'feedback', data: feedback },
        { kind: 'energy', data: energy },
      ],
    });
    expect(parsed.form === 'many' && parsed.refused.map((r) => [r.kind, r.payload])).toEqual([
      ['energy', feedback],
      ['usage', usage],
    ]);
    expect(parseJob(JOB.usageBatch, { events: [usage] })).toMatchObject({ form: 'many', items: [], refused: [{ kind: 'usage', payload: usage }] });
    expect(parseJob(JOB.energyBatch, { events: [] }).form).toBe('invalid');
  });
});

describe('decisions jobs', () => {
  const decision = {
    id: 'dec_a',
    policy: 'p',
    epoch: 1,
    policyVersion: 3,
    arm: 'm1',
    armIndex: 0,
    propensity: 0.9,
    x: [0.5, -1, 0],
    owner: 'admin',
    mode: 'single',
    estimates: [
      { arm: 'm1', quality: 0.8, cost: 1e-4, score: 0.7 },
      { arm: 'm2', quality: 0.6, cost: 0, score: 0.5 },
    ],
    createdAt: 5,
  };
  const job = (estimates: unknown) => JSON.parse(JSON.stringify(batchJobPayload('decisions', [{ ...decision, estimates } as never])));

  it('parse with their per-arm estimates as sent', () => {
    expect(parseJob(JOB.decisions, job(decision.estimates))).toEqual({ form: 'decisions', decisions: [decision], refused: [] });
    expect(parseJob(JOB.decisions, job([])).form).toBe('decisions');
  });

  it('refuse a decision whose estimate is not a flat object of strings and finite numbers, and keep the others', () => {
    const other = { ...decision, id: 'dec_b' };
    for (const bad of [[{ arm: 'm1', quality: null }], [{ arm: 'm1', nested: { q: 1 } }], [[0.5, 0.7]], ['m1'], [null], [{ q: true }], {}]) {
      const data = job(bad);
      data.decisions.push(other);
      expect(parseJob(JOB.decisions, data)).toMatchObject({
        form: 'decisions',
        decisions: [other],
        refused: [{ kind: 'decisions', payload: { id: 'dec_a' } }],
      });
    }
    // Not from JSON, but from code: a non-finite number is refused too.
    expect(parseJob(JOB.decisions, { decisions: [{ ...decision, estimates: [{ arm: 'm1', q: Infinity }] }] })).toMatchObject({
      form: 'decisions',
      decisions: [],
    });
    expect(parseJob(JOB.decisions, { decisions: [] }).form).toBe('invalid');
  });
});

describe("workers' declared protocol", () => {
  it('is read back from the BullMQ client name of a named worker, and 0 for an unnamed one', () => {
    expect(protocolOfWorkerClient(`rt:bull:cm91dGVy:w:${workerNameFor(WORKER_PROTOCOL)}`)).toBe(WORKER_PROTOCOL);
    expect(protocolOfWorkerClient('rt:bull:cm91dGVy:w:router-worker-p17')).toBe(17);
    expect(protocolOfWorkerClient('rt:bull:cm91dGVy')).toBe(0);
    expect(protocolOfWorkerClient('rt:bull:cm91dGVy:w:somebody-else')).toBe(0);
    expect(protocolOfWorkerClient(undefined)).toBe(0);
  });
});
