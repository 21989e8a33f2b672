import {
  addArmStats,
  armStatsLength,
  emptyArmStats,
  isArmStatsBlob,
  packArmStats,
  recordDecision,
  recordObservation,
  unpackArmStats,
  type ArmStats,
} from './arm-stats.js';
import { compileLinearModel } from './linear-model.js';
import { DEFAULT_OBJECTIVE, headIndex } from './objective.js';
import { createRng } from './prng.js';
import { relErr } from './testing/rel-err.js';

describe('additive arm statistics (L2)', () => {
  it('4 random shards summed equal the sequential fold within 1e-9, and so does θ', () => {
    const d = 6;
    const rng = createRng(7);
    const seq = emptyArmStats(d);
    const shards: ArmStats[] = Array.from({ length: 4 }, () => emptyArmStats(d));
    for (let t = 0; t < 5000; t++) {
      const x = Float64Array.from({ length: d }, () => rng.normal());
      const r = rng.next();
      const s = shards[rng.int(4)];
      for (const target of [seq, s]) {
        recordDecision(target, x);
        recordObservation(target, x, headIndex.quality, r);
        recordObservation(target, x, headIndex.energy, 10 * r);
      }
    }
    const merged = emptyArmStats(d);
    for (const s of [shards[2], shards[0], shards[3], shards[1]]) addArmStats(merged, s);
    expect(relErr(merged.xx, seq.xx)).toBeLessThan(1e-9);
    expect(relErr(merged.xr, seq.xr)).toBeLessThan(1e-9);
    expect(merged.pulls).toBe(seq.pulls);
    const p = { ridge: 1, priorWeight: 0 };
    const a = compileLinearModel(d, [merged], [], DEFAULT_OBJECTIVE, p).arms[0].theta;
    const b = compileLinearModel(d, [seq], [], DEFAULT_OBJECTIVE, p).arms[0].theta;
    expect(relErr(a, b)).toBeLessThan(1e-9);
  });

  it('packs and unpacks losslessly', () => {
    const s = emptyArmStats(3);
    recordDecision(s, [1, 2, 3]);
    recordObservation(s, [1, 2, 3], headIndex.cost, 0.5);
    const v = packArmStats(s);
    expect(v.length).toBe(armStatsLength(3));
    expect(packArmStats(unpackArmStats(v, 3))).toEqual(v);
  });

  it('reads the layout before S_q (prior uploads, every record scored) with S_q = S', () => {
    const s = emptyArmStats(3);
    recordDecision(s, [1, 2, 3]);
    recordObservation(s, [1, 2, 3], headIndex.quality, 0.5);
    const v = packArmStats(s);
    expect(Array.from(s.xq)).toEqual(Array.from(s.xx));
    const legacy = v.slice(0, v.length - 9);
    expect([isArmStatsBlob(legacy, 3, true), isArmStatsBlob(legacy.subarray(1), 3, true), isArmStatsBlob(legacy, 3)]).toEqual([true, false, false]);
    expect(unpackArmStats(legacy, 3, true)).toEqual(unpackArmStats(v, 3));
    expect(() => unpackArmStats(legacy, 3)).toThrow(/does not match/);
    expect(() => unpackArmStats(legacy.subarray(1), 3, true)).toThrow(/does not match/);
  });
});

describe('missing feedback is not negative feedback', () => {
  it('de-biases a head observed on a fraction of decisions', () => {
    const d = 2;
    const full = emptyArmStats(d);
    const sparse = emptyArmStats(d);
    const rng = createRng(3);
    for (let t = 0; t < 4000; t++) {
      const x = Float64Array.of(1, rng.next());
      const r = 0.7 + 0.1 * x[1];
      recordDecision(full, x);
      recordObservation(full, x, headIndex.quality, r);
      recordDecision(sparse, x);
      if (rng.next() < 0.2) recordObservation(sparse, x, headIndex.quality, r);
    }
    const p = { ridge: 1, priorWeight: 0 };
    const x = Float64Array.of(1, 0.5);
    const q = (s: ArmStats) => {
      const m = compileLinearModel(d, [s], [], DEFAULT_OBJECTIVE, p);
      return m.arms[0].theta[0] * x[0] + m.arms[0].theta[1] * x[1];
    };
    expect(q(full)).toBeCloseTo(0.75, 2);
    expect(Math.abs(q(sparse) - 0.75)).toBeLessThan(0.02);
  });
});

describe('heads with a registry expectation', () => {
  it('priorWeight 0 predicts the expectation before any observation and the live fit after, never 0/0', () => {
    const d = 2;
    const s = emptyArmStats(d);
    recordDecision(s, [1, 0]);
    const x = [1, 0];
    const energy = (st: ArmStats) => {
      const arm = compileLinearModel(d, [st], [{ energy: 40 }], DEFAULT_OBJECTIVE, { ridge: 1, priorWeight: 0 }).arms[0];
      const h = headIndex.energy;
      return arm.offset[h] + arm.theta[h * d] * x[0] + arm.theta[h * d + 1] * x[1];
    };
    expect(energy(s)).toBe(40);
    recordObservation(s, x, headIndex.energy, 10);
    expect(Number.isFinite(energy(s))).toBe(true);
    expect(energy(s)).not.toBe(40);
  });
});
