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
    });
  });

  it('are invalid when empty, with an unknown kind, or with an item of the wrong shape', () => {
    expect(parseJob(MIXED_EVENTS.name, {}).form).toBe('invalid');
    expect(parseJob(MIXED_EVENTS.name, { feedback: [] }).form).toBe('invalid');
    expect(parseJob(MIXED_EVENTS.name, { feedback: [feedback], decisions: [] }).form).toBe('invalid');
    expect(parseJob(MIXED_EVENTS.name, { energy: [feedback] }).form).toBe('invalid');
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
    expect(parseJob(JOB.decisions, job(decision.estimates))).toEqual({ form: 'decisions', decisions: [decision] });
    expect(parseJob(JOB.decisions, job([])).form).toBe('decisions');
  });

  it('are invalid when an estimate is not a flat object of strings and finite numbers', () => {
    for (const bad of [[{ arm: 'm1', quality: null }], [{ arm: 'm1', nested: { q: 1 } }], [[0.5, 0.7]], ['m1'], [null], [{ q: true }], {}])
      expect(parseJob(JOB.decisions, job(bad))).toMatchObject({ form: 'invalid' });
    // Not from JSON, but from code: a non-finite number is refused too.
    expect(parseJob(JOB.decisions, { decisions: [{ ...decision, estimates: [{ arm: 'm1', q: Infinity }] }] })).toMatchObject({ form: 'invalid' });
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
