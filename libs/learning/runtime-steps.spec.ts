import { applyLocalDecision, emptyArmStats, packArmStats, recordDecision, recordObservation, headIndex, createRng } from '@app/bandits';
import { type Policy } from '@app/contracts';
import { armPriors, buildRuntime, buildRuntimeSteps, compiledAlike, objectiveScales, type PolicyRuntime, qualityPrior, variantSteps } from './runtime.js';

const D = 6;
const policy: Policy = {
  name: 'p',
  version: 1,
  epoch: 1,
  updatedAt: new Date(0).toISOString(),
  algorithm: 'linucb',
  arms: ['a', 'b', 'c'],
  params: {},
  objective: { quality: 1, energy: 0.2, cost: 0, latency: 0 },
  features: { source: 'builtin', dim: D },
  feedback: { windowSeconds: 60, defaultReward: null, aggregation: 'earliest' },
};
const priors = armPriors(policy, new Map(), new Map());
/** A fixed energy unit: the scores compared below do not move with the other arms' learnt means. */
const SCALES = { energy: 10 };

/** Stored blobs of three arms, each with `n` decisions and observations drawn from `seed`. */
function blobs(n: number, seed: number): Map<string, Float64Array> {
  const rng = createRng(seed);
  return new Map(
    policy.arms.map((arm) => {
      const s = emptyArmStats(D);
      for (let i = 0; i < n; i++) {
        const x = Float64Array.from({ length: D }, (_, j) => (j === 0 ? 1 : rng.next() - 0.5));
        recordDecision(s, x);
        recordObservation(s, x, headIndex.quality, rng.next());
        recordObservation(s, x, headIndex.energy, 10 * rng.next());
      }
      return [arm, packArmStats(s)];
    }),
  );
}

/** Runs the steps to the end, counting them (the same number for every arm inverted here: no prior, no retry). */
function run(steps: Generator<void, PolicyRuntime, void>): { rt: PolicyRuntime; steps: number } {
  for (let n = 0; ; n++) {
    const r = steps.next();
    if (r.done) return { rt: r.value, steps: n };
  }
}

const compiledOf = (rt: PolicyRuntime, a: number) => {
  const arm = rt.model.arms[a];
  return [Array.from(arm.Ainv), Array.from(arm.theta), Array.from(arm.scoreTheta), arm.scoreOffset, arm.pulls];
};

describe('buildRuntimeSteps: a replica recompiling only the arms whose statistics moved', () => {
  it('without a previous runtime, is buildRuntime, in steps of at most O(d²) work', () => {
    const stored = blobs(20, 1);
    const { rt, steps } = run(buildRuntimeSteps(policy, stored, priors, 1, SCALES));
    const plain = buildRuntime(policy, stored, priors, 1, SCALES);
    expect(steps).toBe(3 * 3 * D); // per arm: a step per column of the factor and per row of each half of the inverse
    for (let a = 0; a < 3; a++) expect(compiledOf(rt, a)).toEqual(compiledOf(plain, a));
  });

  it("copies an unchanged arm with the replica's own decisions folded in since, and inverts a changed one", () => {
    const first = blobs(20, 1);
    const previous = buildRuntime(policy, first, priors, 1, SCALES);
    const x = Float64Array.from([1, 0.3, -0.2, 0.1, 0.4, -0.4]);
    applyLocalDecision(previous.model, 0, x, new Float64Array(2 * D)); // a decision of this replica, not yet stored
    const folded = compiledOf(previous, 0);
    const next = new Map(first);
    next.set('b', blobs(25, 2).get('b')!); // the worker moved arm b only

    const { rt, steps } = run(buildRuntimeSteps(policy, next, priors, 2, SCALES, previous));
    expect(steps).toBe(3 * D); // only b inverted
    expect(compiledOf(rt, 0)).toEqual(folded); // a as folded locally (a fresh compile would lose the decision)
    expect(compiledOf(rt, 1)).toEqual(compiledOf(buildRuntime(policy, next, priors, 2, SCALES), 1));
    expect(compiledOf(rt, 2)).toEqual(compiledOf(previous, 2));

    // A copy: folding into the new runtime leaves the previous one as it was, and the reverse.
    applyLocalDecision(rt.model, 2, x, new Float64Array(2 * D));
    expect(compiledOf(previous, 2)).toEqual(compiledOf(buildRuntime(policy, first, priors, 1, SCALES), 2));
    expect(rt.model.arms[2].Ainv).not.toBe(previous.model.arms[2].Ainv);
    expect(rt.model.arms[0].headsAinv === rt.model.arms[0].Ainv).toBe(previous.model.arms[0].headsAinv === previous.model.arms[0].Ainv);
  });

  it('copies an arm with a warm-start prior whole: its two inverses and its prior share, none shared', () => {
    const warm = policy.arms.map(() => ({ quality: qualityPrior([0.5, 0.1, 0, 0, 0, 0], 10, 1) }));
    const stored = blobs(20, 1); // energy observations too: the heads' inverse is an array of its own
    const previous = buildRuntime(policy, stored, warm, 1, SCALES);
    const x = Float64Array.from([1, 0.2, 0.1, -0.3, 0, 0.2]);
    const { rt } = run(buildRuntimeSteps(policy, stored, warm, 2, SCALES, previous));
    const [was, now] = [previous.model.arms[0], rt.model.arms[0]];
    expect([now.Ainv === now.headsAinv, now.priorTheta === null]).toEqual([false, false]);
    for (const k of ['Ainv', 'headsAinv', 'priorTheta', 'theta'] as const) {
      expect(now[k]).not.toBe(was[k]);
      expect(Array.from(now[k]!)).toEqual(Array.from(was[k]!));
    }
    const before = compiledOf(previous, 0).concat([Array.from(was.priorTheta!), Array.from(was.headsAinv)]);
    applyLocalDecision(rt.model, 0, x, new Float64Array(2 * D));
    expect(compiledOf(previous, 0).concat([Array.from(was.priorTheta!), Array.from(was.headsAinv)])).toEqual(before);
  });

  it('inverts every arm again when the prior gate flips', () => {
    const stored = blobs(20, 1);
    const previous = buildRuntime(policy, stored, priors, 1, SCALES);
    previous.model.priorActive = !previous.model.priorActive; // as compiled under the other gate
    expect(run(buildRuntimeSteps(policy, stored, priors, 2, SCALES, previous)).steps).toBe(3 * 3 * D);
  });
});

describe('variantSteps: a variant of a policy (what an evaluation compiles) from its live compile', () => {
  it('copies every arm for other weights, exploration or a budget, and compiles what buildRuntime compiles', () => {
    const stored = blobs(20, 1);
    const live = buildRuntime(policy, stored, priors, 1, SCALES);
    const variant: Policy = {
      ...policy,
      objective: { ...policy.objective, energy: 0.9 },
      params: { alpha: 0.3, epsilon: 0.2 },
      budget: { energyJoulesPerRequest: 4 },
    };
    expect(compiledAlike(live, variant)).toBe(true);
    const { rt, steps } = run(variantSteps(live, variant));
    expect(steps).toBe(0);
    const plain = buildRuntime(variant, stored, priors, 1, SCALES);
    for (let a = 0; a < 3; a++) expect(compiledOf(rt, a)).toEqual(compiledOf(plain, a));
    expect(Array.from(rt.model.prices)).toEqual(Array.from(plain.model.prices));
    // Its arms are copies: the live compile is left as it was.
    expect(rt.model.arms[0].Ainv).not.toBe(live.model.arms[0].Ainv);
  });

  it('is not for another ridge, prior weight, dimension or set of arms', () => {
    const live = buildRuntime(policy, blobs(20, 1), priors, 1, SCALES);
    expect(compiledAlike(live, { ...policy, params: { ridge: 2 } })).toBe(false);
    expect(compiledAlike(live, { ...policy, params: { priorWeight: 5 } })).toBe(false);
    expect(compiledAlike(live, { ...policy, features: { source: 'builtin', dim: D + 1 } })).toBe(false);
    expect(compiledAlike(live, { ...policy, arms: ['a', 'c', 'b'] })).toBe(false);
  });
});

describe('objectiveScales', () => {
  it('serves a scale stored below the bound at the bound (a policy stored before it), and keeps the others as set', () => {
    const stored = { ...policy, scales: { energy: 5e-324, cost: 0.002 } };
    expect(objectiveScales(stored, new Map())).toEqual({ energy: 1e-9, cost: 0.002 });
  });
});
