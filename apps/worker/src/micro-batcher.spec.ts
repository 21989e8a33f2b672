import { type BatchInput, type BatchOutcome } from '@app/ingest';
import { type FeedbackJob } from '@app/contracts';
import { decisionRecord } from '../../../test/support/rows.js';
import { DeadLetteredError, type Entry, MicroBatcher } from './micro-batcher.js';

const refused = Object.assign(new Error('index row size exceeds btree maximum'), { code: '54000' });
const outage = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const fb = (eventId: string): FeedbackJob => ({ eventId, decisionId: 'd', reward: 1, receivedAt: 0 });
const ok: BatchOutcome = { orphans: [], applied: 0, superseded: 0, stale: 0, late: 0 };
const dec = (id: string) => decisionRecord(id, [1]);

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

describe('MicroBatcher linger', () => {
  it('lets entries that arrive during a pass wait for their linger, so a steady trickle makes few passes', async () => {
    const sizes: number[] = [];
    const run = async (input: BatchInput) => {
      sizes.push(input.feedback.length);
      await new Promise((r) => setTimeout(r, 5)); // a pass takes 5 ms
      return ok;
    };
    const b = new MicroBatcher(run, 1000, 60, 3);
    const all: Promise<void>[] = [];
    // One event every 2 ms for 240 ms: a pass per 60 ms linger (about 4), not one per pass duration (about 40).
    for (let i = 0; i < 120; i++) {
      all.push(b.submit({ kind: 'feedback', data: fb(`t${i}`) }));
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(all);
    expect(sizes.reduce((s, n) => s + n, 0)).toBe(120);
    expect(sizes.length).toBeLessThanOrEqual(8);
  });

  it('still runs at once what the limit on passes in flight held back, and a full batch without waiting', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sizes: number[] = [];
    const run = async (input: BatchInput) => {
      sizes.push(input.feedback.length);
      await gate;
      return ok;
    };
    // One pass in flight at most, batches of 4, a linger far longer than the test.
    const b = new MicroBatcher(run, 4, 60_000, 1);
    const first = [0, 1, 2, 3].map((i) => b.submit({ kind: 'feedback', data: fb(`a${i}`) })); // full: runs at once
    const held = [0, 1, 2, 3, 4].map((i) => b.submit({ kind: 'feedback', data: fb(`b${i}`) })); // full again, held back
    await new Promise((r) => setTimeout(r, 10));
    expect(sizes).toEqual([4]);
    release();
    // Everything held back (no linger timer of its own) runs as soon as passes free up, the linger notwithstanding.
    await Promise.all([...first, ...held]);
    expect(sizes).toEqual([4, 4, 1]);
  });

  it('runs entries held back by the limit when a pass ends, even if a later arrival has set a timer', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const starts: number[] = [];
    const run = async () => {
      starts.push(performance.now());
      if (starts.length === 1) await gate;
      return ok;
    };
    const b = new MicroBatcher(run, 100, 200, 1);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const a = b.submit({ kind: 'feedback', data: fb('a') }); // first pass after 200 ms, held open by the gate
    await sleep(220);
    const held = b.submit({ kind: 'feedback', data: fb('held') }); // its linger ends at ~420 ms: held back by the limit
    await sleep(230);
    const later = b.submit({ kind: 'feedback', data: fb('later') }); // sets a new timer, ~200 ms away
    await sleep(20);
    const releasedAt = performance.now();
    release();
    await Promise.all([a, held, later]);
    expect(starts).toHaveLength(2);
    // The held-back entry went with the pass that ended, not after the later arrival's linger.
    expect(starts[1] - releasedAt).toBeLessThan(100);
  });
});

describe('MicroBatcher size', () => {
  const decisions = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => dec(`${prefix}${i}`));

  it('counts a decisions job by its decisions: a pass holds at most the batch size of decisions and events', async () => {
    const passes: number[] = [];
    const run = async (input: BatchInput) => {
      passes.push(input.decisions.length + input.feedback.length);
      await new Promise((r) => setTimeout(r, 2));
      return ok;
    };
    const b = new MicroBatcher(run, 1000, 20, 1);
    const all = [
      ...['a', 'b', 'c', 'd', 'e'].map((p) => b.submit({ kind: 'decisions', data: decisions(p, 300) })),
      ...Array.from({ length: 50 }, (_, i) => b.submit({ kind: 'feedback', data: fb(`f${i}`) })),
      b.submit({ kind: 'decisions', data: decisions('big', 1500) }), // larger than a pass: goes alone, whole
    ];
    await Promise.all(all);
    expect(passes.reduce((a, n) => a + n, 0)).toBe(5 * 300 + 50 + 1500);
    expect(passes.filter((n) => n > 1000)).toEqual([1500]);
    // Under the old count (entries), the first pass took all 56 entries: 3,050 decisions and events.
    expect(passes[0]).toBe(900);
  });
});
