import { type ReplayRecord } from './dataset.js';
import { type MeanSd, meanSd } from './summary.js';

/** One cascade pass: per-request means of what was served and paid, and which models were called. */
export interface CascadeRunMetrics {
  rounds: number;
  /** Quality of the final answer. */
  quality: number;
  /** Cost and energy of every call made. */
  costUsd: number;
  energyJ: number;
  /** Per model, the share of prompts that called it (sums to the mean number of calls). */
  callShare: number[];
  /** Per model, the share of prompts it gave the final answer to. */
  finalShare: number[];
  /** Share of prompts with at least one escalation. */
  escalationRate: number;
  meanCalls: number;
}

export class CascadeMetricsAccumulator {
  private q = 0;
  private c = 0;
  private e = 0;
  private t = 0;
  private escalated = 0;
  private calls = 0;
  private readonly called: number[];
  private readonly final: number[];

  constructor(k: number) {
    this.called = new Array<number>(k).fill(0);
    this.final = new Array<number>(k).fill(0);
  }

  /** One prompt answered by the models `called`, in call order (the last one's answer is served). */
  add(r: ReplayRecord, called: readonly number[]): void {
    for (const a of called) {
      this.c += r.costUsd[a];
      this.e += r.energyJ[a];
      this.called[a]++;
    }
    const last = called[called.length - 1];
    this.q += r.quality[last];
    this.final[last]++;
    if (called.length > 1) this.escalated++;
    this.calls += called.length;
    this.t++;
  }

  result(): CascadeRunMetrics {
    const T = Math.max(1, this.t);
    return {
      rounds: this.t,
      quality: this.q / T,
      costUsd: this.c / T,
      energyJ: this.e / T,
      callShare: this.called.map((n) => n / T),
      finalShare: this.final.map((n) => n / T),
      escalationRate: this.escalated / T,
      meanCalls: this.calls / T,
    };
  }
}

/** Mean ± sd over seeds of every figure of a cascade pass (per model for the shares). */
export interface CascadeSummary {
  seeds: number;
  quality: MeanSd;
  costUsd: MeanSd;
  energyJ: MeanSd;
  escalationRate: MeanSd;
  meanCalls: MeanSd;
  callShare: Record<string, MeanSd>;
  finalShare: Record<string, MeanSd>;
}

export function summarizeCascade(models: readonly string[], runs: readonly CascadeRunMetrics[]): CascadeSummary {
  const per = (f: (r: CascadeRunMetrics) => number[]) => Object.fromEntries(models.map((m, k) => [m, meanSd(runs.map((r) => f(r)[k]))]));
  return {
    seeds: runs.length,
    quality: meanSd(runs.map((r) => r.quality)),
    costUsd: meanSd(runs.map((r) => r.costUsd)),
    energyJ: meanSd(runs.map((r) => r.energyJ)),
    escalationRate: meanSd(runs.map((r) => r.escalationRate)),
    meanCalls: meanSd(runs.map((r) => r.meanCalls)),
    callShare: per((r) => r.callShare),
    finalShare: per((r) => r.finalShare),
  };
}
