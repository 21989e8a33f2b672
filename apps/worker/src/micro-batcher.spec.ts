import { type BatchInput, type BatchOutcome } from '@app/ingest';
import { type FeedbackJob } from '@app/contracts';
import { DeadLetteredError, type Entry, MicroBatcher } from './micro-batcher.js';

const refused = Object.assign(new Error('index row size exceeds btree maximum'), { code: '54000' });
const outage = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const fb = (eventId: string): FeedbackJob => ({ eventId, decisionId: 'd', reward: 1, receivedAt: 0 });
const ok: BatchOutcome = { orphans: [], applied: 0, superseded: 0, stale: 0, late: 0 };

/** A learning pass that refuses any batch holding a "poison" event, and records what it learnt. */
function pass(failWith: Error) {
  const learnt = new Set<string>();
  let calls = 0;
  const run = async (input: BatchInput) => {
    calls++;
    if (input.feedback.some((f) => f.eventId.startsWith('poison')) || input.decisions.some((d) => d.id.startsWith('poison'))) throw failWith;
    for (const f of input.feedback) learnt.add(f.eventId);
    for (const d of input.decisions) learnt.add(d.id);
    return ok;
  };
  return { run, learnt, calls: () => calls };
}

describe('MicroBatcher isolates a poison item', () => {
  it('dead-letters the one entry Postgres refuses and learns every other entry of the batch in the same flush', async () => {
    const p = pass(refused);
    const letters: Entry[] = [];
    const b = new MicroBatcher(p.run, 64, 5, 1, {
      isPermanent: (e) => (e as { code?: string }).code === '54000',
      deadLetter: async (e) => void letters.push(e),
    });
    const ids = Array.from({ length: 40 }, (_, i) => (i === 17 ? 'poison' : `e${i}`));
    const results = await Promise.allSettled(ids.map((id) => b.submit({ kind: 'feedback', data: fb(id) })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(39);
    expect((results[17] as PromiseRejectedResult).reason).toBeInstanceOf(DeadLetteredError);
    expect([...p.learnt].sort()).toEqual(ids.filter((id) => id !== 'poison').sort());
    expect(letters.map((l) => (l.kind === 'feedback' ? l.data.eventId : null))).toEqual(['poison']);
    // Bisection: about 2·log2(40) extra passes, not one per entry.
    expect(p.calls()).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(40)) + 2);
  });

  it('splits a decisions entry to set aside only the refused decision', async () => {
    const p = pass(refused);
    const letters: Entry[] = [];
    const b = new MicroBatcher(p.run, 64, 5, 1, { isPermanent: () => true, deadLetter: async (e) => void letters.push(e) });
    const dec = (id: string) => ({
      id,
      policy: 'p',
      epoch: 1,
      policyVersion: 1,
      arm: 'a',
      armIndex: 0,
      propensity: 1,
      x: [1],
      owner: 'o',
      mode: 'single',
      estimates: [],
      createdAt: 0,
    });
    const r = b.submit({ kind: 'decisions', data: ['d0', 'd1', 'poison', 'd3', 'd4'].map(dec) });
    await expect(r).rejects.toBeInstanceOf(DeadLetteredError);
    expect([...p.learnt].sort()).toEqual(['d0', 'd1', 'd3', 'd4']);
    expect(letters.flatMap((l) => (l.kind === 'decisions' ? l.data.map((d) => d.id) : []))).toEqual(['poison']);
  });

  it('fails the whole batch on an outage (it retries; nothing is dead-lettered)', async () => {
    const p = pass(outage);
    const letters: Entry[] = [];
    const b = new MicroBatcher(p.run, 64, 5, 1, {
      isPermanent: (e) => (e as { code?: string }).code === '54000',
      deadLetter: async (e) => void letters.push(e),
    });
    const results = await Promise.allSettled(['a', 'poison', 'b'].map((id) => b.submit({ kind: 'feedback', data: fb(id) })));
    expect(results.every((r) => r.status === 'rejected' && r.reason === outage)).toBe(true);
    expect(letters).toEqual([]);
    expect(p.calls()).toBe(1);
  });

  it('retries the entry when it cannot be set aside (Postgres gone meanwhile): no event is dropped', async () => {
    const p = pass(refused);
    const b = new MicroBatcher(p.run, 64, 5, 1, { isPermanent: () => true, deadLetter: async () => Promise.reject(outage) });
    const results = await Promise.allSettled(['a', 'poison'].map((id) => b.submit({ kind: 'feedback', data: fb(id) })));
    expect(results[0].status).toBe('fulfilled');
    expect((results[1] as PromiseRejectedResult).reason).toBe(outage);
  });
});
