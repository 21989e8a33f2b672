// Shapes of the admin API answers the dashboard reads (docs/api.md), for type-checking the browser modules.
import { type Chart } from 'chart.js';

declare global {
  interface Window {
    /** Chart.js's UMD build, loaded by index.html before the modules. */
    Chart: typeof Chart;
  }
}

export type Weight = 'quality' | 'energy' | 'cost' | 'latency';
export type Objective = Record<Weight, number>;
export type HeadName = 'quality' | 'energyJoules' | 'costUsd' | 'latencyMs';

export interface Policy {
  name: string;
  algorithm: string;
  arms: string[];
  objective: Objective;
  budget?: { costUsdPerRequest?: number; energyJoulesPerRequest?: number } | null;
  version: number;
  epoch: number;
}

export interface Model {
  id: string;
  enabled: boolean;
  breaker: { state: 'closed' | 'open' | 'half-open'; failures: number; openedAt: number };
}

export interface BudgetStatus {
  budget: 'costUsdPerRequest' | 'energyJoulesPerRequest';
  limit: number;
  requests: number;
  meanPerRequest: number | null;
  price: number;
}

export interface Stats {
  decisions: number;
  feedback: number;
  budgets: BudgetStatus[];
}

export interface AuditEntry {
  id: string;
  action: string;
  actor: string;
  before: Partial<Policy> | null;
  after: Partial<Policy> | null;
  at: string;
}

export interface TimeseriesPoint {
  bucket: string;
  model: string;
  decisions: number;
  feedback: number;
  meanReward: number | null;
  feedbackLagMs: number | null;
  energyReadings: number;
  energyJoules: number | null;
  costUsd: number | null;
  latencyMs: number | null;
  fallbacks: number;
}

export interface Timeseries {
  from: string;
  to: string;
  bucket: string;
  points: TimeseriesPoint[];
}

export interface Estimate {
  estimate: number;
  ci95: [number, number];
}

export type Heads = Record<HeadName, Estimate | null>;

export interface Evaluation {
  n: number;
  effectiveSampleSize: number;
  logged: Heads;
  candidate: Heads & { shares: Record<string, number> };
  warnings: string[];
}

export interface Frontier {
  weight: Weight;
  current: number;
  logged: Heads | null;
  points: { value: number; n: number; effectiveSampleSize: number; candidate: Heads; warnings: string[] }[];
}
