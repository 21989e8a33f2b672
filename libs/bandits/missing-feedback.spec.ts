import { emptyArmStats, recordDecision, recordObservation, type ArmStats } from './arm-stats.js';
import { debiasFactor, missingFactor } from './arrival-fit.js';
import { compileLinearModel, type LinearModel } from './linear-model.js';
import { applyLocalDecision, linearEstimates, linearEstimatesReference } from './linucb.js';
import { headIndex } from './objective.js';
import { createRng, type Rng } from './prng.js';

/**
 * Where feedback arrives depends on who sends the requests: one caller rates every answer, another never does.
 * The quality head's missing-feedback factor must undo the missing values where they are missing, and not scale the
 * estimate at the contexts whose feedback does arrive (a shared policy's estimates must not move for one caller's
 * traffic without feedback).
 */
const d = 6;
const params = { ridge: 1, priorWeight: 0 };
const weights = { quality: 1, energy: 0, cost: 0, latency: 0 };

/** Two kinds of prompt sharing the bias feature: x = [1, kind a, kind b, noise…]. */
const context = (rng: Rng, kind: 0 | 1): Float64Array => {
  const x = new Float64Array(d);
  x[0] = 1;
  x[1 + kind] = 1;
  for (let i = 3; i < d; i++) x[i] = 0.3 * rng.normal();
  return x;
};

/** `rated` decisions of kind 0 with quality 0.89 observed, then `silent` decisions of kind 1 without feedback. */
function sharedArm(rng: Rng, rated: number, silent: number): ArmStats {
  const s = emptyArmStats(d);
  for (let t = 0; t < rated; t++) {
    const x = context(rng, 0);
    recordDecision(s, x);
    recordObservation(s, x, headIndex.quality, 0.89 + 0.05 * rng.normal());
  }
  for (let t = 0; t < silent; t++) recordDecision(s, context(rng, 1));
  return s;
}

const quality = (m: LinearModel, x: Float64Array): number => linearEstimatesReference(m, x, [0], false)[0].quality;

describe('missing feedback, local to the context', () => {
  it('decisions without feedback at one kind of prompt leave the estimate at the rated kind as it was', () => {
    const rng = createRng(11);
    const alone = compileLinearModel(d, [sharedArm(createRng(11), 100, 0)], [], weights, params);
    const flooded = compileLinearModel(d, [sharedArm(rng, 100, 4000)], [], weights, params);
    const x = context(createRng(99), 0);
    expect(quality(alone, x)).toBeCloseTo(0.89, 1);
    // The arm-wide pulls/obs is 41: the rated kind's estimate scaled by it was 36 on the earlier build.
    expect(debiasFactor(4100, 100)).toBe(41);
    expect(Math.abs(quality(flooded, x) - quality(alone, x))).toBeLessThan(0.05);
  });

  it('feedback that arrives at the same rate everywhere is still de-biased by about pulls/obs', () => {
    const rng = createRng(4);
    const s = emptyArmStats(d);
    for (let t = 0; t < 6000; t++) {
      const x = context(rng, t % 2 === 0 ? 0 : 1);
      recordDecision(s, x);
      if (rng.next() < 0.25) recordObservation(s, x, headIndex.quality, x[1] === 1 ? 0.8 : 0.4);
    }
    const m = compileLinearModel(d, [s], [], weights, params);
    expect(quality(m, context(createRng(5), 0))).toBeCloseTo(0.8, 1);
    expect(quality(m, context(createRng(6), 1))).toBeCloseTo(0.4, 1);
  });

  it('a kind rated at a quarter of its decisions beside one rated at all of them: the first is de-biased up to the arm’s pulls/obs', () => {
    const rng = createRng(8);
    const s = emptyArmStats(d);
    for (let t = 0; t < 8000; t++) {
      const kind = t % 2 === 0 ? 0 : 1;
      const x = context(rng, kind);
      recordDecision(s, x);
      if (kind === 0 || rng.next() < 0.25) recordObservation(s, x, headIndex.quality, kind === 0 ? 0.7 : 0.5);
    }
    const m = compileLinearModel(d, [s], [], weights, params);
    const bound = debiasFactor(s.pulls, s.obs[headIndex.quality]);
    expect(bound).toBeCloseTo(1.6, 1);
    // The fully rated kind is not scaled up (pulls/obs would make it 1.12).
    expect(quality(m, context(createRng(5), 0))).toBeCloseTo(0.7, 1);
    // The other needs 4, gets the bound: as under the arm-wide factor, and still short of 0.5.
    expect(quality(m, context(createRng(6), 1))).toBeCloseTo(0.5 * 0.25 * bound, 1);
  });

  it('keeps the factor within [1, pulls/obs], and takes pulls/obs where the arrival fits say nothing', () => {
    expect(missingFactor(10, 10, 0.6)).toBe(1);
    expect(missingFactor(40, 10, 1)).toBe(1);
    expect(missingFactor(40, 10, 0.5)).toBe(2);
    expect(missingFactor(40, 10, 0.002)).toBe(4);
    expect(missingFactor(40, 10, -0.2)).toBe(4);
    expect(missingFactor(40, 10, 0)).toBe(4);
    expect(missingFactor(40, 0, 0.6)).toBe(1);
    expect(missingFactor(40, 10, 1.8)).toBe(1);
  });

  it('needs no constant feature: the arrival fits carry their own intercept', () => {
    const rng = createRng(21);
    const s = emptyArmStats(d);
    for (let t = 0; t < 6000; t++) {
      const x = Float64Array.from({ length: d }, () => rng.normal());
      recordDecision(s, x);
      if (rng.next() < 0.2) recordObservation(s, x, headIndex.quality, 0.5 + 0.1 * x[0]);
    }
    const m = compileLinearModel(d, [s], [], weights, params);
    const x = Float64Array.from({ length: d }, (_, i) => (i === 0 ? 1 : 0));
    // No intercept in the features: y = 0.5 + 0.1·x₀ is fitted as well as a line through 0 can (0.1·x₀ + what the
    // others explain); what matters here is the factor, ≈ pulls/obs = 5 at every x.
    const raw = linearEstimatesReference({ ...m, arms: [{ ...m.arms[0], pulls: m.arms[0].obs[headIndex.quality] }] }, x, [0], false)[0].quality;
    expect(quality(m, x) / raw).toBeGreaterThan(4);
    expect(quality(m, x) / raw).toBeLessThanOrEqual(debiasFactor(s.pulls, s.obs[headIndex.quality]) + 1e-9);
  });

  it('the kernel, the reference and a local decision agree on a flooded arm', () => {
    const rng = createRng(12);
    const stats = [sharedArm(rng, 80, 900), sharedArm(rng, 300, 0)];
    const model = compileLinearModel(d, stats, [], weights, params);
    const z = new Float64Array(d);
    for (let t = 0; t < 30; t++) {
      const x = context(rng, 1);
      applyLocalDecision(model, 0, x, z);
      recordDecision(stats[0], x);
    }
    const fresh = compileLinearModel(d, stats, [], weights, params);
    for (let t = 0; t < 20; t++) {
      const x = context(rng, t % 2 === 0 ? 0 : 1);
      const ref = linearEstimatesReference(fresh, x, [0, 1], true);
      for (const got of [linearEstimates(model, x, [0, 1], true), linearEstimates(fresh, x, [0, 1], true), linearEstimatesReference(model, x, [0, 1], true)])
        got.forEach((e, c) => {
          for (const key of ['quality', 'mean', 'bonus'] as const) expect(Math.abs(e[key] - ref[c][key])).toBeLessThan(1e-9);
        });
    }
  });
});
