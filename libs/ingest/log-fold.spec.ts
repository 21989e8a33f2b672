import { createRng, headIndex, unpackArmStats } from '@app/bandits';
import { type LearningDelta, sumDeltas } from '@app/learning';
import { relErr } from '../bandits/testing/rel-err.js';
import { decisionItem, type LearningDecision, type LearningItem, learningEvent, learningItems } from './learning-items.js';
import { type LogEvent, LogFold } from './log-fold.js';

const D = 3;
const policy = {
  arms: ['a', 'b'],
  features: { source: 'caller' as const, dim: D },
  feedback: { aggregation: 'earliest' as const, windowSeconds: 60, defaultReward: null },
};
const values: Pick<LogEvent, 'reward' | 'joules' | 'latencyMs' | 'costUsd'> = { reward: null, joules: null, latencyMs: null, costUsd: null };
const row = (decision: LearningDecision, id: string, kind: LogEvent['kind'], v: Partial<typeof values>, receivedAt = 0, applied = true): LogEvent => ({
  ...values,
  ...v,
  id,
  kind,
  decisionId: decision.id,
  arm: decision.arm,
  context: decision.x,
  applied,
  receivedAt: new Date(receivedAt),
});

function fold(decisions: LearningDecision[], events: LogEvent[]) {
  const f = new LogFold(policy);
  f.addDecisions(decisions);
  f.addEvents(events);
  const { blobs, markers } = f.result();
  return { blobs, arms: new Map([...blobs].map(([arm, b]) => [arm, unpackArmStats(b, D)])), markers: new Map(markers.map((m) => [m.marker, m.claimer])) };
}

/**
 * The worker's protocol, in memory: items claimed in arrival order, as commitBatch-3.lua and EventApplier do
 * (a taken marker: the item's fallback, the estimate's joules looked up for a correction). Returns what was
 * added and the events that ended superseded.
 */
function applyLive(arrivals: { item: LearningItem; event: LogEvent | null }[]) {
  const claims = new Map<string, string>();
  const deltas: LearningDelta[] = [];
  const superseded = new Set<string>();
  const estimates = new Map(arrivals.flatMap((a) => (a.event?.kind === 'usage' && a.event.joules !== null ? [[a.event.id, a.event.joules] as const] : [])));
  const claim = (it: LearningItem): boolean => {
    const holder = claims.get(it.marker);
    if (holder === undefined) {
      claims.set(it.marker, it.claimer);
      deltas.push(...it.deltas);
      return true;
    }
    if (holder === it.claimer) return true;
    const f = it.fallback;
    if (!f) return false;
    if (f.kind === 'item') return claim(f.item);
    const estimate = holder === f.estimate ? estimates.get(holder) : undefined;
    return claim(estimate === undefined ? f.otherwise : f.correction(estimate));
  };
  for (const { item, event } of arrivals) if (!claim(item) && event && item.role !== 'estimate') superseded.add(event.id);
  return { deltas, superseded };
}

describe('LogFold', () => {
  const d1: LearningDecision = { id: 'd1', arm: 'a', x: [1, 0, 2] };
  const duel: LearningDecision = { id: 'd2', arm: 'a', arms: ['a', 'b'], x: [0, 1, 1] };

  it('equals the worker applying the same events in any arrival order (1e-9)', () => {
    const rng = createRng(7);
    for (let trial = 0; trial < 50; trial++) {
      const decisions: LearningDecision[] = [];
      const events: LogEvent[] = [];
      for (let i = 0; i < 6; i++) {
        const dec: LearningDecision = { id: `d${i}`, arm: rng.next() < 0.5 ? 'a' : 'b', x: [rng.normal(), rng.normal(), 1] };
        decisions.push(dec);
        if (rng.next() < 0.7) events.push(row(dec, `usage:d${i}`, 'usage', { costUsd: rng.next(), latencyMs: 100 * rng.next(), joules: 50 * rng.next() }));
        for (let r = 0; r < rng.int(3); r++)
          events.push(row(dec, `r${i}.${r}`, 'energy', { joules: 50 * rng.next(), latencyMs: rng.next() < 0.5 ? null : 10 }));
        for (let t = 0; t < rng.int(3); t++) events.push(row(dec, `t${i}.${t}`, 'feedback', { reward: rng.next() }));
      }
      const arrivals = [
        ...decisions.map((dec) => ({ item: decisionItem(dec), event: null })),
        ...events.flatMap((e) =>
          learningItems(learningEvent(e, e.arm)!, { id: e.decisionId, arm: e.arm, x: e.context }, policy).map((item) => ({ item, event: e })),
        ),
      ];
      for (let i = arrivals.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [arrivals[i], arrivals[j]] = [arrivals[j], arrivals[i]];
      }
      const live = applyLive(arrivals);
      // What a rebuild reads: the learnt rows (superseded thumbs are stored as such, not learnt).
      const rebuilt = fold(
        decisions,
        events.filter((e) => !live.superseded.has(e.id)),
      );
      const expected = sumDeltas(D, live.deltas);
      expect([...rebuilt.blobs.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [arm, blob] of expected) expect(relErr(rebuilt.blobs.get(arm)!, blob)).toBeLessThan(1e-9);
    }
  });

  it('a duel: both models get the A update', () => {
    const { arms, markers } = fold([duel], []);
    expect(arms.get('a')!.pulls).toBe(1);
    expect(arms.get('b')!.pulls).toBe(1);
    expect(markers.get('d:d2')).toBe('d2');
  });

  it('energy slot: the estimate counts while no reading exists', () => {
    const { arms, markers } = fold([d1], [row(d1, 'usage:d1', 'usage', { joules: 40, latencyMs: 200, costUsd: 0.1 })]);
    const a = arms.get('a')!;
    expect(a.obs[headIndex.energy]).toBe(1);
    expect(a.sum[headIndex.energy]).toBe(40);
    expect(markers.get('n:d1')).toBe('usage:d1');
    expect(markers.get('e:usage:d1')).toBe('usage:d1');
  });

  it('energy slot: a reading replaces the estimate whichever came first; a second reading is an observation of its own', () => {
    for (const [usageAt, readingAt] of [
      [0, 5],
      [5, 0],
    ]) {
      const { arms, markers } = fold(
        [d1],
        [
          row(d1, 'usage:d1', 'usage', { joules: 40, latencyMs: 200 }, usageAt),
          row(d1, 'r1', 'energy', { joules: 25 }, readingAt),
          row(d1, 'r2', 'energy', { joules: 30 }, 9),
        ],
      );
      const a = arms.get('a')!;
      expect(a.obs[headIndex.energy]).toBe(2);
      expect(a.sum[headIndex.energy]).toBe(55);
      expect(markers.get('n:d1')).toBe('r1');
      expect(markers.get('e:r2')).toBe('r2');
      expect(markers.has('m:d1')).toBe(false);
    }
  });

  it('aggregation "earliest": the thumb already learnt keeps the quality slot, else the first received', () => {
    const first = fold([d1], [row(d1, 't1', 'feedback', { reward: 1 }, 5, false), row(d1, 't2', 'feedback', { reward: 0 }, 1, false)]);
    expect(first.markers.get('q:d1')).toBe('t2');
    expect(first.arms.get('a')!.sum[headIndex.quality]).toBe(0);
    const learnt = fold([d1], [row(d1, 't1', 'feedback', { reward: 1 }, 5, true), row(d1, 't2', 'feedback', { reward: 0 }, 1, false)]);
    expect(learnt.markers.get('q:d1')).toBe('t1');
    expect(learnt.arms.get('a')!.obs[headIndex.quality]).toBe(1);
  });

  it('aggregation "all": every thumb counts, each under its own marker', () => {
    const f = new LogFold({ ...policy, feedback: { ...policy.feedback, aggregation: 'all' } });
    f.addDecisions([d1]);
    f.addEvents([row(d1, 't1', 'feedback', { reward: 1 }), row(d1, 't2', 'feedback', { reward: 0.5 })]);
    const { blobs, markers } = f.result();
    expect(unpackArmStats(blobs.get('a')!, D).obs[headIndex.quality]).toBe(2);
    expect(markers.map((m) => m.marker).sort()).toEqual(['d:d1', 'e:t1', 'e:t2']);
  });

  it('events recorded under another dimension are left out; such decisions are marked but not folded', () => {
    const old: LearningDecision = { id: 'old', arm: 'a', x: [1, 2] };
    const { arms, markers } = fold([old], [row(old, 't1', 'feedback', { reward: 1 })]);
    expect(arms.size).toBe(0);
    expect([...markers.keys()]).toEqual(['d:old']);
  });

  it('lists the markers of items not applied yet or not older than markersSince; the state folds every item', () => {
    const old: LearningDecision = { id: 'old', arm: 'a', x: [1, 0, 0] };
    const open: LearningDecision = { id: 'open', arm: 'a', x: [0, 1, 0] };
    const fresh: LearningDecision = { id: 'fresh', arm: 'b', x: [0, 0, 1] };
    const f = new LogFold(policy, 1000);
    f.addDecisions([
      { ...old, applied: true, createdAt: 10 },
      { ...open, applied: false, createdAt: 10 },
      { ...fresh, applied: true, createdAt: 2000 },
      { id: 'unknown-age', arm: 'b', x: [1, 1, 1] },
    ]);
    f.addEvents([
      row(old, 't-old', 'feedback', { reward: 1 }, 20, true),
      row(open, 't-open', 'feedback', { reward: 0 }, 20, false),
      row(fresh, 't-fresh', 'feedback', { reward: 1 }, 1500, true),
      row(old, 'r-old', 'energy', { joules: 5 }, 30, true),
      row(old, 'r-old-2', 'energy', { joules: 6 }, 1200, true),
    ]);
    const { blobs, markers } = f.result();
    expect(markers.map((m) => `${m.marker}=${m.claimer}`).sort()).toEqual(
      ['d:open=open', 'd:fresh=fresh', 'd:unknown-age=unknown-age', 'q:open=t-open', 'q:fresh=t-fresh', 'e:r-old-2=r-old-2'].sort(),
    );
    // Every item is folded, its marker listed or not.
    const all = fold(
      [old, open, fresh, { id: 'unknown-age', arm: 'b', x: [1, 1, 1] }],
      [
        row(old, 't-old', 'feedback', { reward: 1 }, 20, true),
        row(open, 't-open', 'feedback', { reward: 0 }, 20, false),
        row(fresh, 't-fresh', 'feedback', { reward: 1 }, 1500, true),
        row(old, 'r-old', 'energy', { joules: 5 }, 30, true),
        row(old, 'r-old-2', 'energy', { joules: 6 }, 1200, true),
      ],
    );
    for (const [arm, blob] of all.blobs) expect(relErr(blobs.get(arm)!, blob)).toBe(0);
  });
});
