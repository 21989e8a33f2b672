import {
  applyLocalDecision,
  createRng,
  decideLinUcb,
  emptyArmStats,
  recordDecision,
  recordObservation,
  compileLinearModel,
  matVec,
  dot,
  linearEstimates,
  linearEstimatesReference,
} from '@app/bandits';
import { featurize } from '@app/featurizer';

/**
 * Featurize + decide in-process, K = 16 arms, d = 64, ~300-byte prompt, beside the naive Float64Array kernel of
 * ../shared/perf/bench-linucb.mjs (θ = A⁻¹b and A⁻¹x per arm per decision), measured in the same run.
 * Usage: npm run bench:decide [-- seconds rounds]
 */
const K = 16;
const d = 64;
const secs = Number(process.argv[2] ?? 10);
const rng = createRng(1);
const stats = Array.from({ length: K }, () => emptyArmStats(d));
for (let a = 0; a < K; a++)
  for (let t = 0; t < 200; t++) {
    const x = Float64Array.from({ length: d }, () => rng.next() - 0.5);
    recordDecision(stats[a], x);
    recordObservation(stats[a], x, 0, rng.next());
    recordObservation(stats[a], x, 1, 100 * rng.next());
  }
const weights = { quality: 1, energy: 0.3, cost: 0, latency: 0 };
const model = compileLinearModel(d, stats, [], weights, { ridge: 1, priorWeight: 2 });
// A copy the route-path row updates after each decision (the api's local Sherman–Morrison update).
const routed = compileLinearModel(d, stats, [], weights, { ridge: 1, priorWeight: 2 });
const all = Array.from({ length: K }, (_, i) => i);
const prompts = Array.from(
  { length: 64 },
  (_, i) =>
    `You are a helpful assistant. Please explain step by step how a hash map resolves collisions, with an example in Python, and compare open addressing with chaining for request ${i}. Keep it under 200 words and mention load factors.`,
);
const b = stats.map((s) => s.xr.slice(0, d));
const theta = new Float64Array(d);
const z = new Float64Array(d);
function naive(x: Float64Array) {
  let best = -1;
  let bestS = -Infinity;
  for (let a = 0; a < K; a++) {
    matVec(model.arms[a].Ainv, b[a], d, theta);
    matVec(model.arms[a].Ainv, x, d, z);
    const s = dot(x, theta, d) + Math.sqrt(dot(x, z, d));
    if (s > bestS) {
      bestS = s;
      best = a;
    }
  }
  return best;
}
const xs = prompts.map((p) => featurize(p, d));
const out = new Float64Array(d);
const variants: Record<string, (i: number) => unknown> = {
  'featurize (~300-byte prompt)': (i) => featurize(prompts[i & 63], d, out),
  'decide (LinUCB, 4 heads, ε-mix)': (i) => decideLinUcb(model, xs[i & 63], all, { alpha: 1, epsilon: 0.02 }, rng),
  'featurize + decide': (i) => decideLinUcb(model, featurize(prompts[i & 63], d, out), all, { alpha: 1, epsilon: 0.02 }, rng),
  'estimates, WebAssembly kernel (linearEstimates)': (i) => linearEstimates(model, xs[i & 63], all, true),
  'estimates, TypeScript reference kernel': (i) => linearEstimatesReference(model, xs[i & 63], all, true),
  'featurize + decide + local update (route path)': (i) => {
    const x = featurize(prompts[i & 63], d, out);
    applyLocalDecision(routed, decideLinUcb(routed, x, all, { alpha: 1, epsilon: 0.02 }, rng).arm, x, z);
  },
  'naive kernel (2 matvecs/arm, perf/bench-linucb.mjs)': (i) => naive(xs[i & 63]),
};
function medianUs(fn: (i: number) => unknown, seconds: number): number {
  const samples: number[] = [];
  const end = performance.now() + seconds * 1000;
  let i = 0;
  while (performance.now() < end) {
    const t0 = performance.now();
    for (let k = 0; k < 100; k++) fn(i++);
    samples.push(((performance.now() - t0) * 1000) / 100);
  }
  samples.sort((a, c) => a - c);
  return samples[Math.floor(samples.length / 2)];
}
const NAIVE = 'naive kernel (2 matvecs/arm, perf/bench-linucb.mjs)';
const rounds = Number(process.argv[3] ?? 5);
for (const fn of Object.values(variants)) medianUs(fn, 0.3); // JIT warm-up
// Each round measures every variant in turn; ratios are taken within a round (the machine's speed drifts).
const us: Record<string, number[]> = {};
const ratio: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  const got: Record<string, number> = {};
  for (const [name, fn] of Object.entries(variants)) got[name] = medianUs(fn, secs / rounds);
  for (const name of Object.keys(variants)) {
    (us[name] ??= []).push(got[name]);
    (ratio[name] ??= []).push(got[name] / got[NAIVE]);
  }
}
const mmm = (v: number[], digits: number) => {
  const s = [...v].sort((a, b) => a - b);
  return `${s[0].toFixed(digits)} / ${s[Math.floor(s.length / 2)].toFixed(digits)} / ${s[s.length - 1].toFixed(digits)}`;
};
console.log(`K=${K} d=${d}, ${rounds} rounds; median µs per call (min / median / max over rounds); ratio to the naive kernel in the same round`);
for (const name of Object.keys(variants)) console.log(`${name.padEnd(55)} ${mmm(us[name], 1).padStart(24)} µs   ratio ${mmm(ratio[name], 2)}`);
