import { emptyArmStats, recordDecision, recordObservation } from './arm-stats.js';
import { headIndex } from './objective.js';
import { compileLinearModel } from './linear-model.js';
import { applyLocalDecision } from './linucb.js';
import { createRng } from './prng.js';
import { relErr } from './testing/rel-err.js';

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
});
