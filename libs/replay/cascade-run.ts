import { createRng, type EscalationParams, type Rng } from '@app/bandits';
import { imputedReward } from '@app/contracts';
import { decideEscalationStep, ESCALATION_ALGORITHM, escalationDim, escalationFeatures, escalationParams, escalationThreshold } from '@app/learning';
import { type CascadeData, cheapestArm, dearerArms } from './cascade-data.js';
import { CascadeMetricsAccumulator, type CascadeRunMetrics } from './cascade-metrics.js';
import { type WarmEscalation } from './cascade-warm-start.js';
import { type ReplayDataset, type ReplayRecord, replayRegistry } from './dataset.js';
import { handCheckEscalates } from './hand-check.js';
import { type Outcome, ReplayPolicy } from './policies.js';
import { type ReplaySpec, seededOrder, specPolicy } from './run.js';

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
  /** Warm start of the escalation policy (escalationWarmStart): observations learnt before the online pass. */
  warmEscalation?: WarmEscalation;
}

interface Step {
  phi: Float64Array;
  /** The model whose answer was examined, and the escalation policy's choice (it, or the target). */
  answered: number;
  chosen: number;
  /** The escalation policy's estimate of the examined answer's quality (its accept arm's quality head at φ). */
  acceptQuality: number;
}

/**
 * One online pass of a cascade over a response-level dataset, through the decision path of the service's cascade
 * (ContinueService): the first model (routed or cheapest) answers; while fewer than maxSteps models were called and
 * a dearer model is left, the router picks the escalation target among the dearer models (recorded as a decision
 * when used), and the escalation policy (escalationPolicyConfig: lin-ts statistics over the router's models on φ)
 * chooses between the model that answered (accept) and the target (escalate) by decideEscalationStep, at the
 * router's price of the target (escalationThreshold). Feedback is the
 * stored score of the final answer: the escalation decisions learn it, and so does the router decision of the final
 * model; the router decision of an escalated answer learns the escalation policy's estimate of that answer
 * (censoring, see ContinueService.imputeCensored), or with probability `audit` its true score (the escalation
 * policy then learns it too).
 */
export function runCascade(ds: ReplayDataset, features: readonly Float64Array[], data: CascadeData, spec: CascadeSpec, seed: number): CascadeRunMetrics {
  const K = ds.models.length;
  const dim = features[0].length;
  const order = seededOrder(ds.records.length, seed).slice(0, spec.limit ?? ds.records.length);
  const registry = replayRegistry(ds);
  const policy = specPolicy(ds, spec, dim);
  const escalation = new ReplayPolicy({
    algorithm: ESCALATION_ALGORITHM,
    arms: ds.models,
    dim: escalationDim(K, dim),
    objective: spec.objective,
    params: escalationParams(spec.escalationParams),
    ...registry,
  });
  for (const w of spec.warmEscalation ?? []) {
    escalation.decided([w.arm], w.phi);
    escalation.observe([w.arm], w.phi, 0, [w.outcome]);
  }
  const rng = createRng(seed * 2654435761);
  const auditRng = createRng(seed * 40503 + 17);
  const metrics = new CascadeMetricsAccumulator(K);
  const pending: { due: number; run: () => void }[] = [];
  const cheapest = cheapestArm(data.meanCost);
  for (let t = 0; t < order.length; t++) {
    while (pending.length > 0 && pending[0].due <= t) pending.shift()!.run();
    const i = order[t];
    const x = features[i];
    const r = ds.records[i];
    const first = spec.first === 'cheapest' ? cheapest : policy.choose(x, t, rng).arms[0];
    policy.decided([first], x);
    const called = [first];
    const steps = cascadeSteps(policy, escalation, spec, { x, t, rng, signals: data.signals[i], meanCost: data.meanCost, called });
    metrics.add(r, called);
    const learn = () => learnCascade(policy, escalation, spec, { x, t, r, called, steps, audited: () => auditRng.next() < spec.audit });
    if (spec.delay === 0) learn();
    else pending.push({ due: t + spec.delay, run: learn });
  }
  return metrics.result();
}

/** The escalation steps of one prompt; `called` grows by each escalation's target. */
function cascadeSteps(
  policy: ReplayPolicy,
  escalation: ReplayPolicy,
  spec: CascadeSpec,
  at: { x: Float64Array; t: number; rng: Rng; signals: Float64Array[]; meanCost: Float64Array; called: number[] },
): Step[] {
  const { x, t, rng, called } = at;
  const K = at.meanCost.length;
  const steps: Step[] = [];
  while (called.length < spec.maxSteps) {
    const current = called[called.length - 1];
    const targets = dearerArms(at.meanCost, current, called);
    if (targets.length === 0) break;
    const routed = policy.choose(x, t, rng, targets);
    const next = routed.arms[0];
    const price = routed.estimates.find((e) => e.arm === next)!;
    const phi = escalationFeatures({ answered: current, next, arms: K, signals: at.signals[current], context: x });
    let chosen: number;
    let acceptQuality = NaN;
    if (spec.escalation === 'check') chosen = handCheckEscalates(at.signals[current]) ? next : current;
    else {
      const threshold = escalationThreshold(price.quality, price.mean, spec.objective.quality);
      const d = decideEscalationStep(escalation.compiled(), phi, current, next, threshold, rng);
      chosen = d.escalate ? next : current;
      acceptQuality = d.first;
      escalation.decided([chosen], phi);
    }
    steps.push({ phi, answered: current, chosen, acceptQuality });
    if (chosen !== next) break;
    policy.decided([next], x);
    called.push(next);
  }
  return steps;
}

/** The feedback of one prompt: the stored score of its final answer (see runCascade). */
function learnCascade(
  policy: ReplayPolicy,
  escalation: ReplayPolicy,
  spec: CascadeSpec,
  p: { x: Float64Array; t: number; r: ReplayRecord; called: number[]; steps: Step[]; audited: () => boolean },
): void {
  const { x, t, r, called } = p;
  const final = called[called.length - 1];
  const outcome = (a: number, quality = r.quality[a]): Outcome => ({ quality, costUsd: r.costUsd[a], energyJ: r.energyJ[a] });
  policy.observe([final], x, t, [outcome(final)]);
  const learned = spec.escalation === 'learned';
  for (const s of p.steps) {
    if (learned) escalation.observe([s.chosen], s.phi, t, [{ ...outcome(s.chosen), quality: r.quality[final] }]);
    if (s.chosen === s.answered) continue;
    if (p.audited()) {
      policy.observe([s.answered], x, t, [outcome(s.answered)]);
      if (learned) {
        escalation.decided([s.answered], s.phi);
        escalation.observe([s.answered], s.phi, t, [outcome(s.answered)]);
      }
    } else if (learned) policy.observe([s.answered], x, t, [outcome(s.answered, imputedReward(s.acceptQuality))]);
  }
}
