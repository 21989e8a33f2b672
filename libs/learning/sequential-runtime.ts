import {
  DEFAULT_FGTS,
  DEFAULT_TI_UCB,
  disjointSpace,
  FgtsSampler,
  type FgtsParams,
  type PreferenceRecord,
  type Rng,
  tiUcbIndex,
  type TiUcbParams,
} from '@app/bandits';
import { RecentIds } from '@app/contracts';
import { TrendArmLog } from './trend-arm-log.js';

/** A learned event of the durable log, joined with its decision (what order-dependent policies learn from). */
export interface LearnedRow {
  id: string;
  kind: 'feedback' | 'pairwise';
  /** Quality reward, or for a duel P(first model won). */
  reward: number;
  x: Float64Array;
  /** Decision's (first) arm index, and the duel's second arm index. */
  arm: number;
  second: number | null;
  /** Decision time, ms. */
  createdAt: number;
}

/** Event ids a runtime remembers to skip a row delivered twice. */
const SEEN_IDS = 100_000;

/** Service defaults: fewer SGLD steps per decision than the F1 test (the chain is warm and runs per request). */
export const SERVICE_FGTS: FgtsParams = { ...DEFAULT_FGTS, steps: 3, batch: 128 };

/**
 * A replica's FGTS.CDB state (ALGORITHMS.md §7, §11): the merged duel records (plus thumbs on single decisions as
 * pointwise records) and this replica's own two SGLD chains. Records are deduplicated by event id (among the
 * last SEEN_IDS; the reader delivers each row once); at most `maxRecords` of the newest are kept (older ones still
 * shape the chains' current position).
 */
export class DuelRuntime {
  readonly sampler: FgtsSampler<Float64Array>;
  private records: PreferenceRecord<Float64Array>[] = [];
  private readonly seen = new RecentIds(SEEN_IDS);

  constructor(
    readonly k: number,
    readonly d: number,
    params: FgtsParams = SERVICE_FGTS,
    private readonly maxRecords = 50_000,
  ) {
    this.sampler = new FgtsSampler(disjointSpace(k, d), params);
  }

  get size(): number {
    return this.records.length;
  }

  add(rows: readonly LearnedRow[]): number {
    let added = 0;
    for (const r of rows) {
      if (r.x.length !== this.d || !this.seen.add(r.id)) continue;
      if (r.kind === 'pairwise' && r.second !== null) this.records.push({ ctx: r.x, a: r.arm, b: r.second, p: r.reward });
      else if (r.kind === 'feedback') this.records.push({ ctx: r.x, a: r.arm, b: -1, p: r.reward });
      else continue;
      added++;
    }
    if (this.records.length > this.maxRecords) this.records = this.records.slice(-this.maxRecords);
    return added;
  }

  /**
   * Advances both chains, then serves chain 1's pick (single) or a pair of different models (duel). Propensity:
   * the product of each sampler's marginal over its kept chain states.
   */
  decide(x: Float64Array, candidates: readonly number[], duel: boolean, rng: Rng): { arms: number[]; propensity: number; utility: number[] } {
    this.sampler.advance(this.records, rng);
    const utility = candidates.map((a) => this.sampler.space.utility(this.sampler.chains[0], x, a));
    if (duel) {
      const { first, second, propensity } = this.sampler.pair(x, candidates, true);
      return { arms: [first, second], propensity, utility };
    }
    const { first } = this.sampler.pair(x, candidates, false);
    return { arms: [first], propensity: this.sampler.marginal(0, x, candidates, first, -1), utility };
  }
}

/** τ origin (s): keeps the regressor small in the least-squares fits. */
const ORIGIN_S = 1.7e9;

/** Observations of an arm kept unfolded (the order-independent part of its log); past it the oldest half is folded. */
export const TREND_TAIL = 10_000;

/**
 * A replica's TI-UCB state (ALGORITHMS.md §9): per arm the observations sorted by decision time (the restless
 * reading, τ in seconds), replayed through TiUcbArm, so the windows and the detector are a function of the learned
 * log whatever order events arrived in (equal τs, feedback on one decision, keep their order of arrival), for
 * observations that land among an arm's newest kept ones (TrendArmLog: 5,000–10,000 of them). Older ones are
 * folded into a fixed state, so memory and the cost of a replay stay bounded; an observation older than the newest
 * folded one is taken as the oldest of the kept ones (its order among the folded ones is lost).
 */
export class TrendRuntime {
  private readonly logs: TrendArmLog[];
  private readonly seen = new RecentIds(SEEN_IDS);

  constructor(
    readonly k: number,
    readonly params: TiUcbParams = DEFAULT_TI_UCB,
    tail = TREND_TAIL,
  ) {
    this.logs = Array.from({ length: k }, () => new TrendArmLog(tail, params));
  }

  add(rows: readonly LearnedRow[]): number {
    let added = 0;
    for (const r of rows) {
      if (r.kind !== 'feedback' || r.arm >= this.k || !this.seen.add(r.id)) continue;
      this.logs[r.arm].add(r.createdAt / 1000 - ORIGIN_S, r.reward);
      added++;
    }
    for (const log of this.logs) log.settle();
    return added;
  }

  /** Observations kept unfolded, all arms (bounded by k · tail). */
  kept(): number {
    return this.logs.reduce((s, l) => s + l.kept, 0);
  }

  /**
   * Index per candidate at time `nowMs`: each arm's predicted reward now (trend line, or mean since convergence)
   * plus c·√(ln n / n_a); arms decided fewer than `warmPulls` times first, arms without feedback yet optimistic.
   * n_a counts decisions, not only observations (as A is updated at decision time, §13): with feedback arriving
   * later and in batches, a deterministic index would otherwise send every request of a refresh interval to the
   * same arm.
   */
  indices(candidates: readonly number[], decisions: readonly number[], nowMs: number): number[] {
    const p = this.params;
    const arm = (a: number) => this.logs[a].arm;
    const n = candidates.reduce((s, a) => s + Math.max(decisions[a], arm(a).pulls), 0) + 1;
    const now = nowMs / 1000 - ORIGIN_S;
    return candidates.map((a) => (decisions[a] < p.warmPulls ? Infinity : tiUcbIndex(arm(a), now, n, Math.max(decisions[a], arm(a).pulls, 1), p)));
  }

  converged(): (number | null)[] {
    return this.logs.map((l) => l.arm.convergedAt);
  }

  pulls(): number[] {
    return this.logs.map((l) => l.arm.pulls);
  }
}
