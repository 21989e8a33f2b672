import { createRng, headIndex, linearEstimates } from '@app/bandits';
import { featurize } from '@app/featurizer';
import { fitPrior, toPolicyPrior } from '@app/learning';
import { buildDataset, type RawRecord, type SideInfo } from './dataset.js';
import { ReplayPolicy } from './policies.js';
import { priorRecords } from './prior-records.js';
import { inPriorPart } from './prior-split.js';
import { reference } from './reference.js';
import { runReplay } from './run.js';
import { fitReplayPrior, warmStartFromFile, warmStartFromSplit } from './warm-start.js';

const side: SideInfo = { prices: new Map(), joulesPerToken: new Map() };

/** Code prompts suit `coder`, poems suit `writer`; seeded. */
function synthetic(n: number, seed: number, prefix = 'syn'): RawRecord[] {
  const rng = createRng(seed);
  const code = ['Write a Python function that sorts a list', 'Fix this bug in my JavaScript loop', 'Implement a linked list in C'];
  const poem = ['Write a short poem about the sea', 'Compose a haiku about winter', 'Tell a story about a dragon'];
  return Array.from({ length: n }, (_, i) => {
    const isCode = rng.next() < 0.5;
    const good = (p: number) => (rng.next() < p ? 1 : 0);
    return {
      id: `${prefix}:${i}`,
      task: isCode ? 'code' : 'poem',
      prompt: `${(isCode ? code : poem)[rng.int(3)]} #${i}`,
      outcomes: { coder: { score: good(isCode ? 0.9 : 0.2) }, writer: { score: good(isCode ? 0.2 : 0.9) }, other: { score: 0.5 } },
    };
  });
}

describe('replay warm start', () => {
  const raw = synthetic(600, 1);
  const ds = buildDataset('syn', raw, side, ['coder', 'writer']);

  it('maps per-prompt records to (prompt, model, score) for the replayed models; incomplete records count what they have', () => {
    const recs = priorRecords(
      [
        { id: 'x', task: 't', prompt: 'p1', outcomes: { coder: { score: 1 }, other: { score: 0 } } },
        { id: 'y', task: 't', prompt: 'p2', outcomes: { writer: { score: 0.25 }, coder: { score: Number.NaN } } },
        { id: 'z', task: 't', prompt: 'x'.repeat(100_001), outcomes: { coder: { score: 1 } } },
      ],
      ['coder', 'writer'],
    );
    expect(recs).toEqual([
      { input: 'p1', model: 'coder', score: 1 },
      { input: 'p2', model: 'writer', score: 0.25 },
    ]);
  });

  it('fits the prior the service installs: featurised records, fitPrior, toPolicyPrior', () => {
    const recs = priorRecords(raw.slice(0, 50), ds.models);
    const obs = recs.map((r) => ({ arm: ds.models.indexOf(r.model), x: featurize(r.input, 64), r: r.score }));
    const expected = toPolicyPrior(ds.models, fitPrior(2, 64, obs, 30), recs.length, new Date(0).toISOString());
    expect(fitReplayPrior(recs, ds.models, 64, 30)).toEqual(expected);
    expect(expected.arms.coder).toMatchObject({ weight: 30, records: 50 });
    expect(() => fitReplayPrior([{ input: 'p', model: 'other', score: 1 }], ds.models, 64, 30)).toThrow(/not replayed/);
  });

  it('--prior-split: fits on the records whose id falls in F, replays the others; reference rows on the replayed only', () => {
    const w = warmStartFromSplit(0.8, raw, ds, 64, 100);
    const fitIds = raw.filter((r) => inPriorPart(r.id, 0.8));
    expect(w.dataset.records.every((r) => !inPriorPart(r.id, 0.8))).toBe(true);
    expect(w.dataset.records.length + fitIds.length).toBe(ds.records.length);
    expect(w.report).toEqual({
      source: 'split',
      fraction: 0.8,
      records: fitIds.length,
      outcomes: 2 * fitIds.length,
      replayedRecords: w.dataset.records.length,
      weight: 100,
    });
    expect(w.prior.records).toBe(2 * fitIds.length);
    expect(w.prior.arms.writer.weight).toBe(100);
    // Deterministic: the same split and prior on every call.
    expect(warmStartFromSplit(0.8, raw, ds, 64, 100).prior).toEqual(w.prior);
    const ref = reference(w.dataset);
    const byHand = w.dataset.records.reduce((s, r) => s + r.quality[0], 0) / w.dataset.records.length;
    expect(ref.perModel[0].quality).toBeCloseTo(byHand, 12);
  });

  it('--prior-data: fits on another file, replays the whole dataset', () => {
    const other = synthetic(200, 9, 'other');
    const w = warmStartFromFile('other.jsonl', other, ds, 64, 50);
    expect(w.dataset).toBe(ds);
    expect(w.report).toEqual({ source: 'data', file: 'other.jsonl', records: 200, outcomes: 400, replayedRecords: ds.records.length, weight: 50 });
    expect(w.records).toEqual(priorRecords(other, ds.models));
  });

  it('a replay from the prior starts well: the first rounds beat a cold start', () => {
    const w = warmStartFromSplit(0.5, raw, ds, 64, 100);
    const features = w.dataset.records.map((r) => featurize(r.prompt, 64));
    const best = w.dataset.models.indexOf(reference(w.dataset).bestSingle.model);
    const spec = { algorithm: 'linucb' as const, objective: { quality: 1, energy: 0, cost: 0, latency: 0 }, params: { alpha: 0.5 }, delay: 0, limit: 60 };
    const early = (prior?: typeof w.prior) => [0, 1, 2].reduce((s, seed) => s + runReplay(w.dataset, features, best, { ...spec, prior }, seed).quality, 0) / 3;
    const warm = early(w.prior);
    const cold = early();
    // Observed over the first 60 rounds (mean of seeds 0–2): warm 0.889, cold 0.700; the task split is worth ~0.9.
    expect(warm).toBeGreaterThan(cold + 0.1);
  });
});

describe('a warm start with measured heads, as the service compiles it', () => {
  const d = 32;
  const arms = ['fast', 'slow'];
  const x = featurize('Summarise this paragraph in one sentence', d);
  /** Records of both arms that also say how long each call took (fast 200 ms, slow 1,800 ms). */
  const records = Array.from({ length: 40 }, (_, i) => ({ arm: i % 2, x, r: 0.7, measured: { latency: i % 2 === 0 ? 200 : 1800 } }));
  const prior = toPolicyPrior(arms, fitPrior(2, d, records, 100), records.length, 't');
  const policy = (latency: number) =>
    new ReplayPolicy({ algorithm: 'linucb', arms, dim: d, objective: { quality: 1, energy: 0, cost: 0, latency }, params: { alpha: 0 }, prior });

  it('predicts each arm’s latency from the log, and takes the log’s mean as the latency unit when none is set', () => {
    const rt = policy(1).compiled();
    const est = linearEstimates(rt.model, x, [0, 1], false);
    // The ridge fit (λ = 1) of 20 readings at one unit-norm context: 20/21 of the reading.
    expect(est[0].latency).toBeCloseTo((200 * 20) / 21, 6);
    expect(est[1].latency).toBeCloseTo((1800 * 20) / 21, 6);
    // No registry unit for latency: the largest expectation, the log's 1,800 ms (not 1 ms, which would let a
    // latency weight of 1 swamp quality).
    expect(rt.model.refs[headIndex.latency]).toBeCloseTo(1800, 9);
    expect(policy(1).choose(x, 0, createRng(1)).arms).toEqual([0]);
  });
});
