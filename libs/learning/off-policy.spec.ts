import { compileLinearModel, createRng, DEFAULT_OBJECTIVE, emptyArmStats, headIndex, recordDecision, recordObservation, type Rng } from '@app/bandits';
import { estimateOffPolicy, type LoggedSample } from './off-policy.js';

/**
 * Test O1 (ALGORITHMS.md §12): K = 5 arms, d = 6, Bernoulli rewards with mean σ(3·θ_aᵀx); logging ε-greedy
 * (ε = 0.2) on a noisy copy of θ, the evaluated policy greedy on another noisy copy; n = 20,000. The doubly robust
 * reward model is a ridge fit per arm, cross-fitted on two folds (the service uses its learnt heads).
 */
const K = 5;
const D = 6;
const N = 20_000;
const sigma = (z: number) => 1 / (1 + Math.exp(-z));

function context(rng: Rng): Float64Array {
  const x = new Float64Array(D);
  x[0] = 1;
  let norm = 1;
  for (let i = 1; i < D; i++) {
    x[i] = rng.normal();
    norm += x[i] * x[i];
  }
  const k = 1 / Math.sqrt(norm);
  for (let i = 0; i < D; i++) x[i] *= k;
  return x;
}
function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < D; i++) s += a[i] * b[i];
  return s;
}

function world(seed: number) {
  const rng = createRng(seed);
  const theta = Array.from({ length: K }, () => Float64Array.from({ length: D }, () => rng.normal()));
  const noisy = () => theta.map((t) => t.map((v) => v + 0.5 * rng.normal()));
  const logging = noisy();
  const evaluated = noisy();
  const greedy = (m: Float64Array[], x: Float64Array) => {
    let best = 0;
    for (let a = 1; a < K; a++) if (dot(m[a], x) > dot(m[best], x)) best = a;
    return best;
  };
  return { rng, theta, logging, evaluated, greedy };
}

/** n logged decisions and the evaluated policy's true value (on 50,000 fresh contexts). */
function replication(seed: number) {
  const { rng, theta, logging, evaluated, greedy } = world(seed);
  const logged = Array.from({ length: N }, () => {
    const x = context(rng);
    const best = greedy(logging, x);
    const a = rng.next() < 0.2 ? rng.int(K) : best;
    const p = (a === best ? 0.8 : 0) + 0.2 / K;
    const r = rng.next() < sigma(3 * dot(theta[a], x)) ? 1 : 0;
    return { x, a, p, r, fold: rng.int(2) };
  });
  let truth = 0;
  for (let i = 0; i < 50_000; i++) {
    const x = context(rng);
    truth += sigma(3 * dot(theta[greedy(evaluated, x)], x));
  }
  truth /= 50_000;
  // Cross-fitted ridge reward model: fold f's predictions come from the other fold's statistics.
  const models = [0, 1].map((f) => {
    const stats = Array.from({ length: K }, () => emptyArmStats(D));
    for (const l of logged)
      if (l.fold !== f) {
        recordDecision(stats[l.a], l.x);
        recordObservation(stats[l.a], l.x, headIndex.quality, l.r);
      }
    return compileLinearModel(D, stats, [], DEFAULT_OBJECTIVE, { ridge: 1, priorWeight: 0 });
  });
  const samples: LoggedSample[] = logged.map((l) => {
    const m = models[l.fold];
    const predicted = m.arms.map((arm) => dot(arm.theta.subarray(0, D), l.x));
    const target = new Float64Array(K);
    target[greedy(evaluated, l.x)] = 1;
    return { propensity: l.p, served: l.a, value: l.r, target, predicted };
  });
  return { samples, truth };
}

describe('off-policy evaluation (test O1)', () => {
  it('SNIPS and DR are within 0.03 of the truth in ≥ 95 % of 100 replications', () => {
    let snipsOk = 0;
    let drOk = 0;
    const errs: number[] = [];
    for (let s = 0; s < 100; s++) {
      const { samples, truth } = replication(s);
      const e = estimateOffPolicy(samples, createRng(s), 0);
      if (Math.abs(e.snips - truth) < 0.03) snipsOk++;
      if (Math.abs(e.dr - truth) < 0.03) drOk++;
      errs.push(e.dr - truth);
    }
    const rmse = Math.sqrt(errs.reduce((a, v) => a + v * v, 0) / errs.length);
    console.log(
      `O1: SNIPS within 0.03 in ${snipsOk}/100, DR in ${drOk}/100; DR bias ${(errs.reduce((a, v) => a + v, 0) / 100).toFixed(4)}, RMSE ${rmse.toFixed(4)}`,
    );
    expect(snipsOk).toBeGreaterThanOrEqual(95);
    expect(drOk).toBeGreaterThanOrEqual(95);
  });

  it('the 95 % bootstrap interval covers the truth in ≥ 90 % of 40 replications; ESS as in §12', () => {
    let covered = 0;
    const widths: number[] = [];
    const ess: number[] = [];
    for (let s = 100; s < 140; s++) {
      const { samples, truth } = replication(s);
      const e = estimateOffPolicy(samples, createRng(s), 200);
      if (e.ci95[0] <= truth && truth <= e.ci95[1]) covered++;
      widths.push(e.ci95[1] - e.ci95[0]);
      ess.push(e.effectiveSampleSize);
    }
    const mw = widths.reduce((a, v) => a + v, 0) / widths.length;
    console.log(
      `O1 intervals: cover the truth in ${covered}/40, mean width ${mw.toFixed(4)}, mean ESS ${(ess.reduce((a, v) => a + v, 0) / ess.length).toFixed(0)}`,
    );
    expect(covered).toBeGreaterThanOrEqual(36);
  });

  it('IPS with a uniform propensity instead of the logged one is far off (why propensities are logged)', () => {
    const { samples, truth } = replication(7);
    const wrong = samples.map((s) => ({ ...s, propensity: 1 / K }));
    const e = estimateOffPolicy(wrong, createRng(1), 0);
    const right = estimateOffPolicy(samples, createRng(1), 0);
    expect(Math.abs(right.ips - truth)).toBeLessThan(0.05);
    expect(Math.abs(e.ips - truth)).toBeGreaterThan(0.1);
  });
});
