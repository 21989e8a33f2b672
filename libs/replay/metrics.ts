import { type ReplayRecord } from './dataset.js';
import { CURVE_POINTS, RUNNING_MEAN_FROM, type RunMetrics } from './run-metrics.js';

/** Accumulates what a pass served (in-process or over HTTP alike) into RunMetrics. */
export class MetricsAccumulator {
  private q = 0;
  private c = 0;
  private e = 0;
  private regretBest = 0;
  private regretOracle = 0;
  private t = 0;
  private readonly share: number[];
  private readonly curve: RunMetrics['curve'] = [];
  private readonly every: number;
  private maxCost = 0;
  private maxEnergy = 0;

  constructor(
    k: number,
    private readonly total: number,
    private readonly bestSingle: number,
  ) {
    this.share = new Array<number>(k).fill(0);
    this.every = Math.max(1, Math.floor(total / CURVE_POINTS));
  }

  /** One prompt served by `arms` (two for a duel: each counts half). Returns true at a curve checkpoint. */
  add(r: ReplayRecord, arms: readonly number[]): boolean {
    const w = 1 / arms.length;
    let served = 0;
    for (const a of arms) {
      served += w * r.quality[a];
      this.c += r.costUsd[a];
      this.e += r.energyJ[a];
      this.share[a] += w;
    }
    this.q += served;
    if (this.bestSingle >= 0) this.regretBest += r.quality[this.bestSingle] - served;
    this.regretOracle += Math.max(...r.quality) - served;
    this.t++;
    if (this.t >= RUNNING_MEAN_FROM) {
      this.maxCost = Math.max(this.maxCost, this.c / this.t);
      this.maxEnergy = Math.max(this.maxEnergy, this.e / this.t);
    }
    if (this.t % this.every === 0 || this.t === this.total) {
      this.curve.push({ round: this.t, quality: this.q / this.t });
      return true;
    }
    return false;
  }

  get rounds(): number {
    return this.t;
  }

  result(): RunMetrics {
    const T = Math.max(1, this.t);
    return {
      rounds: this.t,
      quality: this.q / T,
      costUsd: this.c / T,
      energyJ: this.e / T,
      regretVsBestSingle: this.regretBest,
      regretVsOracle: this.regretOracle,
      share: this.share.map((s) => s / T),
      curve: this.curve,
      maxRunningMean: { costUsd: this.maxCost, energyJ: this.maxEnergy },
    };
  }
}
