import {
  type AlgorithmParams,
  decideEscalationBetween,
  DEFAULT_ESCALATION_PARAMS,
  type EscalationDecision,
  type EscalationParams,
  type Rng,
} from '@app/bandits';
import { type PolicyRuntime } from './runtime.js';
import { type PolicyConfig } from '@app/contracts';
import { escalationDim } from './escalation-features.js';

/** The escalation policy's algorithm: linear Thompson sampling (its width v·‖φ‖_{A⁻¹} is the exact posterior). */
export const ESCALATION_ALGORITHM = 'lin-ts';

/** Its hyper-parameters: the posterior scale v, the ridge and the uniform share ε (the logging floor). */
export const escalationParams = (p: EscalationParams = DEFAULT_ESCALATION_PARAMS) => ({ alpha: p.v, ridge: p.ridge, epsilon: p.epsilon });

/** The escalation parameters a compiled escalation policy runs with (the inverse of escalationParams). */
export const escalationParamsOf = (p: AlgorithmParams): EscalationParams => ({ v: p.alpha, ridge: p.ridge, epsilon: p.epsilon });

/**
 * The price of calling the escalation target, in quality units: the router's penalty of that model for this prompt
 * (its objective's weights on fixed scales, and a budget's dual price), from the router's estimate of it
 * (`quality`, and `mean` = the score without the exploration bonus).
 */
export const escalationThreshold = (quality: number, mean: number, qualityWeight: number): number =>
  Math.max(0, (qualityWeight * quality - mean) / (qualityWeight > 0 ? qualityWeight : 1));

/**
 * Accept or escalate (ALGORITHMS.md §14) with the escalation policy `esc` (arm = model): escalate iff a Thompson draw
 * of the gain ĝ₂ − ĝ₁ (target's quality head minus the answering model's, at φ) exceeds `threshold`
 * (escalationThreshold); the propensity is closed form. The service's cascade steps and the replay's decide here.
 */
export function decideEscalationStep(esc: PolicyRuntime, phi: Float64Array, answered: number, next: number, threshold: number, rng: Rng): EscalationDecision {
  return decideEscalationBetween(esc.model, phi, answered, next, threshold, escalationParamsOf(esc.params), rng);
}

/** The largest context a policy takes (the features schema's bound). */
export const MAX_POLICY_DIM = 512;

/**
 * The escalation policy the service keeps for a router with a cascade (ALGORITHMS.md §14): linear Thompson
 * sampling over the router's own models on φ (escalationFeatures: the answer's signals, which model answered and
 * which one an escalation would call, the prompt's context). At each step it chooses between the model that answered
 * (accept) and the escalation target (escalate) by decideEscalationStep; each arm learns the quality of that
 * model's final answers given φ; the price of the call is the router's (escalationThreshold). Its objective and
 * scales are the router's (what its stats and an evaluation show).
 */
export function escalationPolicyConfig(router: PolicyConfig): PolicyConfig {
  return {
    algorithm: ESCALATION_ALGORITHM,
    arms: [...router.arms],
    params: {
      ...escalationParams(),
      ...(router.params.expectedInputTokens !== undefined ? { expectedInputTokens: router.params.expectedInputTokens } : {}),
      ...(router.params.expectedOutputTokens !== undefined ? { expectedOutputTokens: router.params.expectedOutputTokens } : {}),
    },
    objective: { ...router.objective },
    ...(router.scales ? { scales: { ...router.scales } } : {}),
    features: { source: 'caller', dim: escalationDim(router.arms.length, router.features.dim) },
    feedback: { ...router.feedback },
  };
}
