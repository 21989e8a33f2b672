import { emptyArmStats, recordDecision, recordObservation } from './arm-stats.js';
import { headIndex } from './objective.js';
import { type ArmPrior, compileLinearModel } from './linear-model.js';
import { applyLocalDecision } from './linucb.js';
import { createRng } from './prng.js';
import { relErr } from './testing/rel-err.js';

const truthAt = (theta: Float64Array, x: Float64Array): number => theta.reduce((s, v, i) => s + v * x[i], 0);

describe('local decision update', () => {
  it('equals recompiling the statistics with the decision added (sparse feedback, priors, weights)', () => {
    const d = 8;
    const rng = createRng(21);
    const stats = [emptyArmStats(d), emptyArmStats(d)];
    for (let t = 0; t < 300; t++) {
      const a = rng.int(2);
      const x = Float64Array.from({ length: d }, () => rng.normal());
      recordDecision(stats[a], x);
      if (rng.next() < 0.3) recordObservation(stats[a], x, headIndex.quality, rng.next());
      if (rng.next() < 0.6) recordObservation(stats[a], x, headIndex.energy, 50 * rng.next());
    }
    const weights = { quality: 1, energy: 0.5, cost: 0, latency: 0 };
    const params = { ridge: 1, priorWeight: 2 };
    const priors = [{ energy: 30 }, { energy: 10 }];
    const model = compileLinearModel(d, stats, priors, weights, params);
    const xs = Array.from({ length: 5 }, () => Float64Array.from({ length: d }, () => rng.normal()));
    for (const x of xs) {
      applyLocalDecision(model, 1, x, new Float64Array(d));
      recordDecision(stats[1], x);
    }
    const fresh = compileLinearModel(d, stats, priors, weights, params);
    expect(relErr(model.arms[1].Ainv, fresh.arms[1].Ainv)).toBeLessThan(1e-9);
    expect(relErr(model.arms[1].theta, fresh.arms[1].theta)).toBeLessThan(1e-9);
    expect(relErr(model.arms[1].scoreTheta, fresh.arms[1].scoreTheta)).toBeLessThan(1e-9);
    expect(model.arms[1].pulls).toBe(fresh.arms[1].pulls);
  });

  it('with a warm-start quality prior, equals recompiling too (the prior in A and θ_q, not in the other heads)', () => {
    const d = 6;
    const rng = createRng(33);
    const truth = [0, 1].map(() => Float64Array.from({ length: d }, () => rng.normal()));
    const stats = [emptyArmStats(d), emptyArmStats(d)];
    for (let t = 0; t < 200; t++) {
      const a = rng.int(2);
      const x = Float64Array.from({ length: d }, () => rng.normal());
      recordDecision(stats[a], x);
      if (rng.next() < 0.4) recordObservation(stats[a], x, headIndex.quality, truthAt(truth[a], x) + 0.1 * rng.normal());
      if (rng.next() < 0.7) recordObservation(stats[a], x, headIndex.cost, 3 + rng.next());
    }
    // Arm 0's prior also fits its cost (blended with its live readings); arm 1's does not (its live cost readings
    // solve without the prior, shrunk toward the registry's 3).
    const priors: ArmPrior[] = truth.map((t, a) => {
      const mean = t.map((v) => v + 0.05 * rng.normal());
      const A = new Float64Array(d * d);
      for (let i = 0; i < d; i++) A[i * d + i] = 50;
      const heads = a === 0 ? { cost: Float64Array.from({ length: d }, (_, i) => (i === 0 ? 3 : 0)) } : undefined;
      return { cost: 3, quality: { A, b: mean.map((v) => 50 * v), mean, weight: 50, ...(heads ? { heads } : {}) } };
    });
    const weights = { quality: 1, energy: 0, cost: 0.3, latency: 0 };
    const params = { ridge: 1, priorWeight: 2 };
    const model = compileLinearModel(d, stats, priors, weights, params);
    expect(model.priorActive).toBe(true);
    expect(model.arms[0].blendHeads).toBe(1 << headIndex.cost);
    expect(model.arms[1].blendHeads).toBe(0);
    for (const a of [0, 1]) expect(model.arms[a].headsAinv).not.toBe(model.arms[a].Ainv);
    const z = new Float64Array(2 * d);
    for (let i = 0; i < 8; i++) {
      const x = Float64Array.from({ length: d }, () => rng.normal());
      applyLocalDecision(model, i % 2, x, z);
      recordDecision(stats[i % 2], x);
    }
    const fresh = compileLinearModel(d, stats, priors, weights, params);
    for (const a of [0, 1])
      for (const key of ['Ainv', 'headsAinv', 'theta', 'priorTheta', 'scoreTheta'] as const) {
        expect(relErr(model.arms[a][key]!, fresh.arms[a][key]!)).toBeLessThan(1e-9);
      }
  });

  it('a quality prior moves neither the other heads’ estimates nor their inverse', () => {
    const d = 5;
    const rng = createRng(7);
    const s = emptyArmStats(d);
    const mean = Float64Array.from({ length: d }, () => rng.normal());
    for (let t = 0; t < 60; t++) {
      const x = Float64Array.from({ length: d }, () => rng.normal());
      recordDecision(s, x);
      recordObservation(s, x, headIndex.quality, truthAt(mean, x));
      recordObservation(s, x, headIndex.cost, 2 + x[0]);
    }
    const A = new Float64Array(d * d);
    for (let i = 0; i < d; i++) A[i * d + i] = 100;
    const weights = { quality: 1, energy: 0, cost: 0, latency: 0 };
    const params = { ridge: 1, priorWeight: 2 };
    const cold = compileLinearModel(d, [s], [{}], weights, params).arms[0];
    const warmModel = compileLinearModel(d, [s], [{ quality: { A, b: mean.map((v) => 100 * v), mean, weight: 100 } }], weights, params);
    expect(warmModel.priorActive).toBe(true);
    const warm = warmModel.arms[0];
    const cost = headIndex.cost * d;
    expect(relErr(warm.theta.subarray(cost, cost + d), cold.theta.subarray(cost, cost + d))).toBeLessThan(1e-12);
    expect(relErr(warm.headsAinv, cold.Ainv)).toBeLessThan(1e-12);
    // the quality head and the width do carry it
    expect(relErr(warm.Ainv, cold.Ainv)).toBeGreaterThan(0.5);
  });

  it('a head the prior fitted keeps its offline fit however much the arm is played, and live readings blend in by count', () => {
    const d = 4;
    const rng = createRng(5);
    const s = emptyArmStats(d);
    const w = 100;
    const A = new Float64Array(d * d);
    for (let i = 0; i < d; i++) A[i * d + i] = w;
    const mean = Float64Array.from([0.6, 0, 0, 0]);
    const costFit = Float64Array.from([0.004, 0.001, 0, 0]);
    const priors: ArmPrior[] = [{ cost: 0.5, quality: { A, b: mean.map((v) => w * v), mean, weight: w, heads: { cost: costFit } } }];
    const weights = { quality: 1, energy: 0, cost: 0, latency: 0 };
    const params = { ridge: 1, priorWeight: 2 };
    const x = Float64Array.from([1, 0.3, 0, 0]);
    const predicted = (m: ReturnType<typeof compileLinearModel>) =>
      m.arms[0].theta.subarray(headIndex.cost * d, (headIndex.cost + 1) * d).reduce((t, v, i) => t + v * x[i], 0);
    const expected = 0.004 + 0.3 * 0.001;
    const local = compileLinearModel(d, [s], priors, weights, params);
    const z = new Float64Array(2 * d);
    for (let t = 0; t < 1000; t++) {
      const xt = Float64Array.from({ length: d }, () => rng.normal());
      recordDecision(s, xt);
      if (rng.next() < 0.5) recordObservation(s, xt, headIndex.quality, 0.6 * xt[0]);
      applyLocalDecision(local, 0, xt, z);
    }
    const fresh = compileLinearModel(d, [s], priors, weights, params);
    // Not shrunk toward 0 by the 1,000 decisions, and not the registry's 0.5 either.
    expect(predicted(fresh)).toBeCloseTo(expected, 12);
    expect(predicted(local)).toBeCloseTo(expected, 12);
    // The quality head does learn from its readings (0.6·x₀ against the prior's 0.6 on the bias).
    const q = fresh.arms[0].theta.subarray(headIndex.quality * d, (headIndex.quality + 1) * d);
    expect(q[0]).toBeGreaterThan(0.5);
    expect(fresh.arms[0].blendHeads).toBe(1 << headIndex.cost);

    // One live reading after 1,000 decisions weighs 1/(1 + w): it does not outweigh the fit (the debiased live fit
    // alone would be scaled up by pulls/obs = 1,000).
    recordObservation(s, x, headIndex.cost, 10 * expected);
    const one = compileLinearModel(d, [s], priors, weights, params);
    expect(predicted(one)).toBeGreaterThan(expected);
    expect(predicted(one)).toBeLessThan(1.5 * expected);
    // Many readings take over: 10,000 readings of 2·expected at x.
    for (let t = 0; t < 10_000; t++) {
      recordDecision(s, x);
      recordObservation(s, x, headIndex.cost, 2 * expected);
    }
    expect(predicted(compileLinearModel(d, [s], priors, weights, params)) / (2 * expected)).toBeGreaterThan(0.95);
  });
});
