import {
  POLICY_ALGORITHMS,
  type PolicyAlgorithm,
  type Algorithm,
  type AlgorithmParams,
  compileArm,
  decide,
  decideRandom,
  defaultParams,
  DEFAULT_TI_UCB,
  disjointSpace,
  emptyArmStats,
  FgtsSampler,
  headRefs,
  type LinearModel,
  type ObjectiveWeights,
  type PreferenceRecord,
  recordDecision,
  recordObservation,
  reweight,
  type Rng,
  type ArmStats,
  TiUcbArm,
  tiUcbIndices,
} from '@app/bandits';
import { SERVICE_FGTS } from '@app/learning';

export const REPLAY_ALGORITHMS = POLICY_ALGORITHMS;
export type ReplayAlgorithm = PolicyAlgorithm;

/** What the replay reveals about a served model on one prompt. */
export interface Outcome {
  quality: number;
  costUsd: number;
  energyJ: number;
}

/** A policy as the replay drives it: one or two arms per prompt, then what was observed. */
export interface ReplayPolicy {
  /** Arms served for context x at round t (two for a duel). */
  choose(x: Float64Array, t: number, rng: Rng): number[];
  /** The decision is known to the policy at once (A at decision time, §13). */
  decided(arms: readonly number[], x: Float64Array, t: number): void;
  /** Feedback, possibly delayed: per-arm outcomes, and for a duel the preference P(arms[0] ≻ arms[1]). */
  observe(arms: readonly number[], x: Float64Array, t: number, outcomes: readonly Outcome[], preference?: number): void;
}

/**
 * LinUCB, lin-ts, beta-ts, ε-greedy and random through the service's own code: additive ArmStats, compiled with
 * compileArm/headRefs (the same functions compileLinearModel uses), decided with `decide`. An arm is recompiled
 * before the next decision after its statistics changed, as a replica does on its next refresh.
 */
export class LinearReplayPolicy implements ReplayPolicy {
  private readonly stats: ArmStats[];
  private readonly model: LinearModel;
  private readonly dirty = new Set<number>();
  private readonly scratch: Float64Array;

  constructor(
    private readonly algorithm: Algorithm,
    private readonly k: number,
    private readonly d: number,
    private readonly weights: ObjectiveWeights,
    private readonly params: AlgorithmParams,
  ) {
    this.stats = Array.from({ length: k }, () => emptyArmStats(d));
    this.scratch = new Float64Array(d * d);
    const lp = { ridge: params.ridge, priorWeight: 0 };
    const arms = this.stats.map((s) => compileArm(d, s, {}, true, lp, this.scratch));
    this.model = reweight({ d, arms, refs: headRefs(this.stats, []), weights, priorActive: true }, weights);
  }

  choose(x: Float64Array, _t: number, rng: Rng): number[] {
    this.refresh();
    const all = Array.from({ length: this.k }, (_, i) => i);
    const dec = this.algorithm === 'random' ? decideRandom(this.model, x, all, rng) : decide(this.algorithm, this.model, x, all, this.params, rng);
    return [dec.arm];
  }

  decided(arms: readonly number[], x: Float64Array): void {
    for (const a of arms) {
      recordDecision(this.stats[a], x);
      this.dirty.add(a);
    }
  }

  observe(arms: readonly number[], x: Float64Array, _t: number, outcomes: readonly Outcome[]): void {
    arms.forEach((a, i) => {
      recordObservation(this.stats[a], x, 0, outcomes[i].quality);
      recordObservation(this.stats[a], x, 1, outcomes[i].energyJ);
      recordObservation(this.stats[a], x, 2, outcomes[i].costUsd);
      this.dirty.add(a);
    });
  }

  private refresh(): void {
    if (this.dirty.size === 0) return;
    const lp = { ridge: this.params.ridge, priorWeight: 0 };
    for (const a of this.dirty) this.model.arms[a] = compileArm(this.d, this.stats[a], {}, true, lp, this.scratch);
    this.dirty.clear();
    this.model.refs = headRefs(this.stats, []);
    reweight(this.model, this.weights);
  }
}

/**
 * TI-UCB (non-contextual; τ = the round): the quality index of §9, minus the operator's penalties on the arms'
 * running mean energy and cost (each divided by the largest arm mean, as everywhere else).
 */
export class TiUcbReplayPolicy implements ReplayPolicy {
  private readonly arms: TiUcbArm[];
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;

  constructor(
    private readonly k: number,
    private readonly weights: ObjectiveWeights,
  ) {
    this.arms = Array.from({ length: k }, () => new TiUcbArm());
    this.sums = new Float64Array(2 * k);
    this.counts = new Float64Array(k);
  }

  choose(_x: Float64Array, t: number): number[] {
    const index = tiUcbIndices(this.arms, t + 1, DEFAULT_TI_UCB);
    const mean = (a: number, h: number) => (this.counts[a] > 0 ? this.sums[h * this.k + a] / this.counts[a] : 0);
    const ref = (h: number) => Math.max(1e-12, ...Array.from({ length: this.k }, (_, a) => mean(a, h)));
    const eRef = ref(0);
    const cRef = ref(1);
    let warm = -1;
    for (let a = 0; a < this.k; a++) if (index[a] === Infinity && (warm < 0 || this.arms[a].pulls < this.arms[warm].pulls)) warm = a;
    if (warm >= 0) return [warm];
    let best = 0;
    let top = -Infinity;
    for (let a = 0; a < this.k; a++) {
      const s = this.weights.quality * index[a] - (this.weights.energy * mean(a, 0)) / eRef - (this.weights.cost * mean(a, 1)) / cRef;
      if (s > top) {
        top = s;
        best = a;
      }
    }
    return [best];
  }

  decided(): void {}

  observe(arms: readonly number[], _x: Float64Array, t: number, outcomes: readonly Outcome[]): void {
    arms.forEach((a, i) => {
      this.arms[a].observe(t, outcomes[i].quality, DEFAULT_TI_UCB);
      this.sums[a] += outcomes[i].energyJ;
      this.sums[this.k + a] += outcomes[i].costUsd;
      this.counts[a]++;
    });
  }
}

/**
 * FGTS.CDB serving two different models per prompt (duel mode) on φ(x, a) = x in arm a's block. Learns from the
 * duel's preference; the two chains run on the records seen so far (minibatch SGLD, the service's setting).
 */
export class FgtsReplayPolicy implements ReplayPolicy {
  private readonly sampler: FgtsSampler<Float64Array>;
  private readonly records: PreferenceRecord<Float64Array>[] = [];

  constructor(
    private readonly k: number,
    d: number,
  ) {
    this.sampler = new FgtsSampler(disjointSpace(k, d), SERVICE_FGTS);
  }

  choose(x: Float64Array, _t: number, rng: Rng): number[] {
    this.sampler.advance(this.records, rng);
    const { first, second } = this.sampler.pair(x, Array.from({ length: this.k }, (_, i) => i), true);
    return [first, second];
  }

  decided(): void {}

  observe(arms: readonly number[], x: Float64Array, _t: number, _o: readonly Outcome[], preference?: number): void {
    if (arms.length === 2 && preference !== undefined) this.records.push({ ctx: x, a: arms[0], b: arms[1], p: preference });
  }
}

export function makePolicy(
  algorithm: ReplayAlgorithm,
  k: number,
  d: number,
  weights: ObjectiveWeights,
  overrides: Partial<AlgorithmParams>,
): ReplayPolicy {
  if (algorithm === 'ti-ucb') return new TiUcbReplayPolicy(k, weights);
  if (algorithm === 'fgts-cdb') return new FgtsReplayPolicy(k, d);
  // The replay never reads propensities: skip their Monte Carlo draws unless asked for.
  return new LinearReplayPolicy(algorithm, k, d, weights, { ...defaultParams(algorithm), propensityDraws: 0, ...overrides });
}
