import { createRng } from '@app/bandits';
import { buildDataset, type RawRecord, type SideInfo } from './dataset.js';
import { buildDuelDataset, type PairRecord } from './duel-dataset.js';
import { runDuelReplay } from './duel-run.js';
import { featurize } from '@app/featurizer';
import { reference } from './reference.js';
import { aggregate } from './report.js';
import { runReplay, seededOrder } from './run.js';
import { renderSvg } from './svg.js';

const side: SideInfo = {
  prices: new Map([
    ['coder', { input: 1, output: 2 }],
    ['writer', { input: 10, output: 20 }],
  ]),
  joulesPerToken: new Map([
    ['coder', 0.5],
    ['writer', 0.1],
  ]),
};

/** Two tasks the featurizer tells apart; `coder` is right on code, `writer` on poems. Generated, seeded. */
function synthetic(n: number, seed: number): RawRecord[] {
  const rng = createRng(seed);
  const code = ['Write a Python function that sorts a list', 'Fix this bug in my JavaScript loop', 'Implement a linked list in C'];
  const poem = ['Write a short poem about the sea', 'Compose a haiku about winter', 'Tell a story about a dragon'];
  return Array.from({ length: n }, (_, i) => {
    const isCode = rng.next() < 0.5;
    const prompt = `${(isCode ? code : poem)[rng.int(3)]} #${i}`;
    const good = (p: number) => (rng.next() < p ? 1 : 0);
    return {
      id: `syn:${i}`,
      task: isCode ? 'code' : 'poem',
      prompt,
      prompt_tokens_est: 10,
      outcomes: {
        coder: { score: good(isCode ? 0.9 : 0.2), tokens: 100 },
        writer: { score: good(isCode ? 0.2 : 0.9), tokens: 50, cost_usd: 0.5 },
      },
    };
  });
}

describe('replay harness', () => {
  const raw = synthetic(800, 1);
  const ds = buildDataset('synthetic', raw, side);
  const features = ds.records.map((r) => featurize(r.prompt, 64));

  it('reads outcomes: cost from the record or from prices, energy from J/token × tokens; incomplete records skipped', () => {
    const partial = buildDataset('p', [...raw.slice(0, 3), { id: 'x', task: 't', prompt: 'p', outcomes: { coder: { score: 1 } } }], side);
    expect(partial.records).toHaveLength(3);
    expect(partial.skipped).toBe(1);
    const r = partial.records[0];
    expect(partial.models).toEqual(['coder', 'writer']);
    expect(r.costUsd[0]).toBeCloseTo((10 * 1 + 100 * 2) / 1e6, 12);
    expect(r.costUsd[1]).toBe(0.5);
    expect(r.energyJ[0]).toBeCloseTo(50, 12);
    expect(r.energyJ[1]).toBeCloseTo(5, 12);
    expect(partial.energyKnown).toBe(true);
  });

  it('computes the reference points by hand-checkable rules', () => {
    const tiny = buildDataset(
      'tiny',
      [
        { id: 'a', task: 't1', prompt: 'a', outcomes: { coder: { score: 1, tokens: 1 }, writer: { score: 0, tokens: 1 } } },
        { id: 'b', task: 't2', prompt: 'b', outcomes: { coder: { score: 0, tokens: 1 }, writer: { score: 1, tokens: 1 } } },
        { id: 'c', task: 't2', prompt: 'c', outcomes: { coder: { score: 1, tokens: 1 }, writer: { score: 1, tokens: 1 } } },
      ],
      side,
    );
    const ref = reference(tiny);
    expect(ref.bestSingle.quality).toBeCloseTo(2 / 3, 12);
    expect(ref.oracleQuality).toBe(1);
    expect(ref.randomQuality).toBeCloseTo(2 / 3, 12);
    expect(ref.perTaskBest.quality).toBe(1);
  });

  it('visits every prompt once in a seeded order', () => {
    const o = seededOrder(100, 3);
    expect(new Set(o).size).toBe(100);
    expect(seededOrder(100, 3)).toEqual(o);
    expect(seededOrder(100, 4)).not.toEqual(o);
  });

  it('LinUCB learns the task split from prompts alone; random does not; delayed feedback still learns', () => {
    const ref = reference(ds);
    const best = ds.models.indexOf(ref.bestSingle.model);
    const spec = { objective: { quality: 1, energy: 0, cost: 0, latency: 0 }, params: {}, delay: 0 };
    const lin = runReplay(ds, features, best, { ...spec, algorithm: 'linucb' }, 0);
    const delayed = runReplay(ds, features, best, { ...spec, algorithm: 'linucb', delay: 50 }, 0);
    const rnd = runReplay(ds, features, best, { ...spec, algorithm: 'random' }, 0);
    // oracle-by-task 0.9, random 0.55 in expectation
    expect(rnd.quality).toBeLessThan(0.62);
    expect(lin.quality).toBeGreaterThan(0.8);
    expect(delayed.quality).toBeGreaterThan(0.75);
    expect(lin.regretVsOracle).toBeLessThan(rnd.regretVsOracle / 2);
    expect(lin.share.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
    const row = aggregate('linucb', spec.objective, ds.models, [lin, delayed]);
    expect(row.quality.sd).toBeGreaterThan(0);
    const svg = renderSvg('synthetic', ref, [row], true);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('<polyline');
  });

  it('an energy weight moves traffic to the frugal model', () => {
    const ref = reference(ds);
    const best = ds.models.indexOf(ref.bestSingle.model);
    const base = { algorithm: 'linucb' as const, params: {}, delay: 0 };
    const q = runReplay(ds, features, best, { ...base, objective: { quality: 1, energy: 0, cost: 0, latency: 0 } }, 1);
    const e = runReplay(ds, features, best, { ...base, objective: { quality: 1, energy: 2, cost: 0, latency: 0 } }, 1);
    expect(e.energyJ).toBeLessThan(q.energyJ * 0.8);
  });

  it('FGTS.CDB duels beat uniform random pairs on preference regret', () => {
    const models = ['m0', 'm1', 'm2', 'm3'];
    const pairs: PairRecord[] = [];
    const prompts = new Map<string, string>();
    const rng = createRng(5);
    for (let i = 0; i < 300; i++) {
      const id = `p${i}`;
      const isCode = i % 2 === 0;
      prompts.set(id, isCode ? `Write a Python function number ${i}` : `Write a poem about the moon number ${i}`);
      const grade = (m: number) => (isCode ? [9, 6, 3, 2][m] : [2, 3, 6, 9][m]) + (rng.next() < 0.2 ? 1 : 0);
      for (let a = 0; a < 4; a++)
        for (let b = a + 1; b < 4; b++) {
          const ga = grade(a);
          const gb = grade(b);
          pairs.push({ id, model_a: models[a], model_b: models[b], winner: ga > gb ? 'a' : ga < gb ? 'b' : 'tie', grade_a: ga, grade_b: gb });
        }
    }
    const duels = buildDuelDataset('syn', pairs, prompts);
    const f = duels.prompts.map((p) => featurize(p.prompt, 64));
    const fg = runDuelReplay(duels, f, 'fgts-cdb', 0);
    const rnd = runDuelReplay(duels, f, 'random', 0);
    expect(fg.distinct).toBe(1);
    expect(fg.floor).toBeCloseTo(rnd.floor, 9);
    // Excess above the floor of two different models, observed (seeds 0–2): 0.59x random's.
    expect(fg.regret - fg.floor).toBeLessThan(0.75 * (rnd.regret - rnd.floor));
  });
});
