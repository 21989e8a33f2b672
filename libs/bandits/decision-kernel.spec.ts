import { type ArmStats, emptyArmStats, recordDecision, recordObservation } from './arm-stats.js';
import { type ArmEstimate } from './decision.js';
import { kernelAvailable, kernelModuleBytes, packedArmLength, setKernelArenaBytes } from './decision-kernel.js';
import { type ArmPrior, compileArm, compileLinearModel, type LinearModel, reweight, setPrices } from './linear-model.js';
import { applyLocalDecision, linearEstimates, linearEstimatesReference } from './linucb.js';
import { headIndex } from './objective.js';
import { createRng, type Rng } from './prng.js';

const { abs, max } = Math;
const FIELDS = ['quality', 'energy', 'cost', 'latency', 'mean', 'bonus', 'score'] as const;

/** Largest difference over every field of every estimate, relative to the largest magnitude of the reference. */
function disagreement(got: ArmEstimate[], want: ArmEstimate[]): number {
  let num = 0;
  let den = 0;
  expect(got.map((e) => e.arm)).toEqual(want.map((e) => e.arm));
  got.forEach((g, c) => {
    for (const f of FIELDS) {
      num = max(num, abs(g[f] - want[c][f]));
      den = max(den, abs(want[c][f]));
    }
  });
  return num / (den || 1);
}

const vec = (rng: Rng, d: number) => Float64Array.from({ length: d }, () => rng.normal());

function randomPolicy(rng: Rng, K: number, d: number): { stats: ArmStats[]; priors: ArmPrior[] } {
  const stats = Array.from({ length: K }, () => emptyArmStats(d));
  for (let a = 0; a < K; a++)
    for (let t = 0, n = rng.int(3 * d); t < n; t++) {
      const x = vec(rng, d);
      recordDecision(stats[a], x);
      if (rng.next() < 0.7) recordObservation(stats[a], x, headIndex.quality, rng.next());
      if (rng.next() < 0.5) recordObservation(stats[a], x, headIndex.energy, 100 * rng.next());
      if (rng.next() < 0.3) recordObservation(stats[a], x, headIndex.latency, 900 * rng.next());
    }
  const priors: ArmPrior[] = stats.map((_, a) => {
    const mean = vec(rng, d);
    const A = new Float64Array(d * d);
    for (let i = 0; i < d; i++) A[i * d + i] = 5;
    return a % 2 === 0 ? { energy: 30, cost: 0.002, quality: { A, b: mean.map((v) => 5 * v), mean, weight: 5 } } : { cost: 0.001 };
  });
  return { stats, priors };
}

function expectAgreement(model: LinearModel, rng: Rng, candidates: readonly number[]): void {
  for (let t = 0; t < 20; t++) {
    const x = vec(rng, model.d);
    if (t % 5 === 0) x.fill(0, 0, model.d >> 1); // sparse contexts too
    for (const widths of [true, false]) {
      const got = linearEstimates(model, x, candidates, widths);
      const want = linearEstimatesReference(model, x, candidates, widths);
      expect(disagreement(got, want)).toBeLessThan(1e-9);
    }
  }
}

describe('decision kernel (WebAssembly SIMD) against the TypeScript reference', () => {
  afterEach(() => setKernelArenaBytes(64 * 1024 * 1024));

  it('is available on this runtime (a silent fallback would leave the fast path untested)', () => {
    const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
    expect(wasm.validate(kernelModuleBytes())).toBe(true);
    expect(kernelAvailable()).toBe(true);
  });

  it.each([5, 13, 32, 64])('agrees to 1e-9 on random seeded states, d = %i', (d) => {
    const rng = createRng(1000 + d);
    const K = 6;
    const { stats, priors } = randomPolicy(rng, K, d);
    const weights = { quality: 1, energy: 0.4, cost: 0.2, latency: 0.1 };
    const model = compileLinearModel(d, stats, priors, weights, { ridge: 1, priorWeight: 2, scales: { energy: 50 } });
    expectAgreement(model, rng, [0, 1, 2, 3, 4, 5]);
    expectAgreement(model, rng, [4, 1, 1]); // subsets, repeats, any order
  });

  it('agrees after local updates, new weights and prices, and recompiled arms', () => {
    const d = 24;
    const K = 5;
    const rng = createRng(77);
    const { stats, priors } = randomPolicy(rng, K, d);
    const params = { ridge: 0.5, priorWeight: 2 };
    const model = compileLinearModel(d, stats, priors, { quality: 1, energy: 0.3, cost: 0, latency: 0 }, params);
    const all = [0, 1, 2, 3, 4];
    const z = new Float64Array(d);
    for (let round = 0; round < 30; round++) {
      expectAgreement(model, rng, all);
      const a = rng.int(K);
      const x = vec(rng, d);
      switch (round % 3) {
        case 0:
          applyLocalDecision(model, a, x, z);
          break;
        case 1:
          reweight(model, { quality: 1, energy: rng.next(), cost: rng.next(), latency: 0 });
          setPrices(model, Float64Array.from([0, rng.next(), 0, 0]));
          break;
        default:
          recordDecision(stats[a], x);
          recordObservation(stats[a], x, headIndex.quality, rng.next());
          model.arms[a] = compileArm(d, stats[a], priors[a], model.priorActive, params);
          reweight(model, model.weights);
      }
    }
  });

  it('agrees when the arena fills and starts over, within and across decisions', () => {
    const d = 16;
    const rng = createRng(5);
    // Room for 3 packed arms: deciding over 2 models of 2 arms in turn restarts the arena on most calls.
    setKernelArenaBytes(65536 + 3 * packedArmLength(d) * 8);
    const models = [0, 1].map(() => {
      const { stats, priors } = randomPolicy(rng, 2, d);
      return compileLinearModel(d, stats, priors, { quality: 1, energy: 0.2, cost: 0, latency: 0 }, { ridge: 1, priorWeight: 2 });
    });
    for (let t = 0; t < 10; t++) for (const m of models) expectAgreement(m, rng, [0, 1]);
    // More candidates than the arena holds: the reference answers.
    const { stats, priors } = randomPolicy(rng, 4, d);
    const big = compileLinearModel(d, stats, priors, { quality: 1, energy: 0, cost: 0, latency: 0 }, { ridge: 1, priorWeight: 2 });
    expectAgreement(big, rng, [0, 1, 2, 3]);
  });
});
