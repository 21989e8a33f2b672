import {
  addArmStats,
  compileEscalation,
  decideEscalation,
  emptyEscalationStats,
  type EscalationParams,
  type EscalationStats,
  recordEscalationOutcome,
  createRng,
} from '@app/bandits';
import { escalationDim, escalationFeatures } from '@app/learning';
import { type CascadeData, cheapestArm, dearerArms } from './cascade-data.js';
import { CascadeMetricsAccumulator, type CascadeRunMetrics } from './cascade-metrics.js';
import { type ReplayDataset, replayRegistry } from './dataset.js';
import { handCheckEscalates } from './hand-check.js';
import { ReplayPolicy } from './policies.js';
import { type ReplaySpec, seededOrder } from './run.js';

/** How a cascade pass picks the first model and decides escalations. */
export interface CascadeSpec extends ReplaySpec {
  /** 'routed': the policy's own decision; 'cheapest': always the cheapest model first. */
  first: 'routed' | 'cheapest';
  /** 'learned': the escalation bandit; 'check': the hand-written GSM8K check (handCheckEscalates). */
  escalation: 'learned' | 'check';
  /** Model calls per prompt at most (2 = one escalation). */
  maxSteps: number;
  /** Share ρ of escalations whose first answer is judged as well (ALGORITHMS.md §14). */
  audit: number;
  escalationParams: EscalationParams;
  /** Warm start of the escalation policy (escalationWarmStart), added once to a fresh state. */
  warmEscalation?: EscalationStats;
}

interface Step {
  phi: Float64Array;
  escalated: boolean;
}

/**
 * One online pass of a cascade over a response-level dataset. Per prompt: the first model (routed or cheapest)
 * answers; while fewer than maxSteps models were called and a dearer model is left, the policy picks the escalation
 * target among the dearer models and the escalation policy decides, from the stored answer's signals and the prompt
 * context, whether to call it; its threshold is the target's penalty under the policy's objective (the router's
 * predicted cost/energy/latency, in quality units). Feedback is the stored score of the final answer (and, for an
 * audited escalation, of the first answer too): the router learns the final model's outcome (and the audited one's),
 * the escalation policy learns accepted answers on its first head, escalations on its second, audits on its first.
 */
export function runCascade(ds: ReplayDataset, features: readonly Float64Array[], data: CascadeData, spec: CascadeSpec, seed: number): CascadeRunMetrics {
  const K = ds.models.length;
  const dim = features[0].length;
  const order = seededOrder(ds.records.length, seed).slice(0, spec.limit ?? ds.records.length);
  const policy = new ReplayPolicy({
    algorithm: spec.algorithm,
    arms: ds.models,
    dim,
    objective: spec.objective,
    params: spec.params,
    prior: spec.prior,
    ...replayRegistry(ds),
    budget: spec.budget,
    budgetGain: spec.budgetGain,
  });
  const rng = createRng(seed * 2654435761);
  const auditRng = createRng(seed * 40503 + 17);
  const stats = emptyEscalationStats(escalationDim(K, dim));
  if (spec.warmEscalation) {
    addArmStats(stats.first, spec.warmEscalation.first);
    addArmStats(stats.second, spec.warmEscalation.second);
  }
  let model = compileEscalation(stats, spec.escalationParams);
  let dirty = false;
  const metrics = new CascadeMetricsAccumulator(K);
  const wq = spec.objective.quality > 0 ? spec.objective.quality : 1;
  const pending: { due: number; run: () => void }[] = [];
  const cheapest = cheapestArm(data.meanCost);
  for (let t = 0; t < order.length; t++) {
    while (pending.length > 0 && pending[0].due <= t) pending.shift()!.run();
    if (dirty) {
      model = compileEscalation(stats, spec.escalationParams);
      dirty = false;
    }
    const i = order[t];
    const x = features[i];
    const r = ds.records[i];
    const first = spec.first === 'cheapest' ? cheapest : policy.choose(x, t, rng).arms[0];
    policy.decided([first], x);
    const called = [first];
    const steps: Step[] = [];
    while (called.length < spec.maxSteps) {
      const current = called[called.length - 1];
      const targets = dearerArms(data.meanCost, current, called);
      if (targets.length === 0) break;
      const routed = policy.choose(x, t, rng, targets);
      const next = routed.arms[0];
      const est = routed.estimates.find((e) => e.arm === next);
      const threshold = est ? Math.max(0, (wq * est.quality - est.mean) / wq) : 0;
      const phi = escalationFeatures({ answered: current, next, arms: K, signals: data.signals[i][current], context: x });
      const escalate =
        spec.escalation === 'check'
          ? handCheckEscalates(data.signals[i][current])
          : decideEscalation(model, phi, threshold, spec.escalationParams, rng).escalate;
      steps.push({ phi, escalated: escalate });
      if (!escalate) break;
      policy.decided([next], x);
      called.push(next);
    }
    metrics.add(r, called);
    const learn = () => {
      const final = called[called.length - 1];
      const outcome = (a: number) => ({ quality: r.quality[a], costUsd: r.costUsd[a], energyJ: r.energyJ[a] });
      policy.observe([final], x, t, [outcome(final)]);
      steps.forEach((s, j) => {
        if (!s.escalated) recordEscalationOutcome(stats, 'first', s.phi, r.quality[called[j]]);
        else {
          recordEscalationOutcome(stats, 'second', s.phi, r.quality[final]);
          if (auditRng.next() < spec.audit) {
            recordEscalationOutcome(stats, 'first', s.phi, r.quality[called[j]]);
            policy.observe([called[j]], x, t, [outcome(called[j])]);
          }
        }
      });
      dirty = steps.length > 0;
    };
    if (spec.delay === 0) learn();
    else pending.push({ due: t + spec.delay, run: learn });
  }
  return metrics.result();
}
