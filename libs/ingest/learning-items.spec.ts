import { headIndex } from '@app/bandits';
import { type LearningDelta } from '@app/learning';
import { decisionItem, type LearningDecision, type LearningItem, learningEvent, learningItems } from './learning-items.js';

const x = [1, 2];
const dec: LearningDecision = { id: 'dec1', arm: 'a', x };
const earliest = { feedback: { aggregation: 'earliest' as const, windowSeconds: 60, defaultReward: null } };
const all = { feedback: { ...earliest.feedback, aggregation: 'all' as const } };
const obs = (arm: string, head: keyof typeof headIndex, value: number): LearningDelta => ({ kind: 'observation', arm, x, head: headIndex[head], value });
const shape = (it: LearningItem) => ({ marker: it.marker, claimer: it.claimer, deltas: it.deltas, role: it.role });

describe('decisionItem', () => {
  it('gives the chosen model the decision-time A update, keyed by the decision', () => {
    expect(shape(decisionItem(dec))).toEqual({ marker: 'd:dec1', claimer: 'dec1', deltas: [{ kind: 'decision', arm: 'a', x }], role: 'decision' });
  });

  it('gives both models of a duel the A update, under one marker', () => {
    const item = decisionItem({ ...dec, arms: ['a', 'b'] });
    expect(item.marker).toBe('d:dec1');
    expect(item.deltas).toEqual([
      { kind: 'decision', arm: 'a', x },
      { kind: 'decision', arm: 'b', x },
    ]);
  });
});

describe('learningItems', () => {
  it('feedback: one quality observation, keyed by the decision under "earliest" and by the event under "all"', () => {
    const event = { kind: 'feedback' as const, id: 'f1', arm: 'a', reward: 0.7 };
    expect(learningItems(event, dec, earliest).map(shape)).toEqual([{ marker: 'q:dec1', claimer: 'f1', deltas: [obs('a', 'quality', 0.7)], role: 'event' }]);
    expect(learningItems(event, dec, all).map(shape)).toEqual([{ marker: 'e:f1', claimer: 'f1', deltas: [obs('a', 'quality', 0.7)], role: 'event' }]);
  });

  it('pairwise: a marker and no delta (the stored row is the duel record), per duel under "earliest"', () => {
    const event = { kind: 'pairwise' as const, id: 'p1' };
    expect(learningItems(event, dec, earliest).map(shape)).toEqual([{ marker: 'p:dec1', claimer: 'p1', deltas: [], role: 'event' }]);
    expect(learningItems(event, dec, all).map(shape)).toEqual([{ marker: 'e:p1', claimer: 'p1', deltas: [], role: 'event' }]);
  });

  it('usage: cost and latency of the answering model; its energy estimate claims the decision energy slot', () => {
    const usage = { kind: 'usage' as const, id: 'usage:dec1', arm: 'b', costUsd: 0.002, latencyMs: 300, estimateJ: 40 };
    const [estimate, main] = learningItems(usage, dec, earliest);
    expect(shape(estimate)).toEqual({ marker: 'n:dec1', claimer: 'usage:dec1', deltas: [obs('b', 'energy', 40)], role: 'estimate' });
    expect(estimate.fallback).toBeUndefined();
    expect(shape(main)).toEqual({ marker: 'e:usage:dec1', claimer: 'usage:dec1', deltas: [obs('b', 'cost', 0.002), obs('b', 'latency', 300)], role: 'event' });
  });

  it('usage: no estimate, no slot item; a missing cost is no observation', () => {
    const items = learningItems({ kind: 'usage', id: 'u', arm: 'a', costUsd: null, latencyMs: 120, estimateJ: null }, dec, all);
    expect(items.map(shape)).toEqual([{ marker: 'e:u', claimer: 'u', deltas: [obs('a', 'latency', 120)], role: 'event' }]);
  });

  describe('energy reading', () => {
    const [reading] = learningItems({ kind: 'energy', id: 'r1', arm: 'a', joules: 25, latencyMs: 90 }, dec, earliest);

    it('claims the decision energy slot with its energy and latency observations', () => {
      expect(shape(reading)).toEqual({ marker: 'n:dec1', claimer: 'r1', deltas: [obs('a', 'energy', 25), obs('a', 'latency', 90)], role: 'event' });
    });

    it('finding the estimate in the slot, corrects it once (R − E₀, no new observation), else observes on its own', () => {
      const f = reading.fallback;
      if (f?.kind !== 'correctEstimate') throw new Error('a reading falls back to correcting the estimate');
      expect(f.estimate).toBe('usage:dec1');
      const fix = f.correction(40);
      expect(shape(fix)).toEqual({
        marker: 'm:dec1',
        claimer: 'r1',
        deltas: [{ kind: 'correction', arm: 'a', x, head: headIndex.energy, value: -15 }, obs('a', 'latency', 90)],
        role: 'event',
      });
      expect(fix.fallback).toEqual({ kind: 'item', item: f.otherwise });
      expect(shape(f.otherwise)).toEqual({ marker: 'e:r1', claimer: 'r1', deltas: [obs('a', 'energy', 25), obs('a', 'latency', 90)], role: 'event' });
      expect(f.otherwise.fallback).toBeUndefined();
    });

    it('without a latency, only the energy', () => {
      const [r] = learningItems({ kind: 'energy', id: 'r2', arm: 'a', joules: 5, latencyMs: null }, dec, earliest);
      expect(r.deltas).toEqual([obs('a', 'energy', 5)]);
    });
  });
});

describe('learningEvent', () => {
  const row = { id: 'e1', arm: null, reward: null, joules: null, latencyMs: null };

  it("reads each kind's values; the decision's arm stands in for a row without one", () => {
    expect(learningEvent({ ...row, kind: 'feedback', reward: 1 }, 'a')).toEqual({ kind: 'feedback', id: 'e1', arm: 'a', reward: 1 });
    expect(learningEvent({ ...row, kind: 'pairwise' }, 'a')).toEqual({ kind: 'pairwise', id: 'e1' });
    expect(learningEvent({ ...row, kind: 'energy', arm: 'b', joules: 3, latencyMs: 4 }, 'a')).toEqual({
      kind: 'energy',
      id: 'e1',
      arm: 'b',
      joules: 3,
      latencyMs: 4,
    });
    expect(learningEvent({ ...row, kind: 'usage', latencyMs: 9 }, 'a')).toEqual({
      kind: 'usage',
      id: 'e1',
      arm: 'a',
      costUsd: null,
      latencyMs: 9,
      estimateJ: null,
    });
  });

  it('is null when the value its kind learns is missing', () => {
    expect(learningEvent({ ...row, kind: 'feedback' }, 'a')).toBeNull();
    expect(learningEvent({ ...row, kind: 'energy' }, 'a')).toBeNull();
  });
});
