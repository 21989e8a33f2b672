import { DEFAULT_ESCALATION_PARAMS } from '@app/bandits';
import { type PolicyConfig } from '@app/contracts';
import { escalationDim } from './escalation-features.js';

/** The largest context a policy takes (the features schema's bound). */
export const MAX_POLICY_DIM = 512;

/**
 * The escalation policy the service keeps for a router with a cascade (ALGORITHMS.md §14): linear Thompson
 * sampling over the router's own models on φ (escalationFeatures: the answer's signals, which model answered and
 * which one an escalation would call, the prompt's context). At each step it chooses between the model that answered
 * (accept) and the escalation target (escalate); each arm learns the quality of that model's final answer given φ,
 * and the router's objective (weights, fixed scales) prices the call, so the threshold is the one the router trades
 * at. Deviation from §14, said where it is documented: the accept arm is charged its own (already spent) cost too,
 * which makes escalating look cheaper by the first model's price (small when the first model is the cheap one).
 */
export function escalationPolicyConfig(router: PolicyConfig): PolicyConfig {
  return {
    algorithm: 'lin-ts',
    arms: [...router.arms],
    params: {
      alpha: DEFAULT_ESCALATION_PARAMS.v,
      ridge: DEFAULT_ESCALATION_PARAMS.ridge,
      epsilon: DEFAULT_ESCALATION_PARAMS.epsilon,
      ...(router.params.expectedInputTokens !== undefined ? { expectedInputTokens: router.params.expectedInputTokens } : {}),
      ...(router.params.expectedOutputTokens !== undefined ? { expectedOutputTokens: router.params.expectedOutputTokens } : {}),
    },
    objective: { ...router.objective },
    ...(router.scales ? { scales: { ...router.scales } } : {}),
    features: { source: 'caller', dim: escalationDim(router.arms.length, router.features.dim) },
    feedback: { ...router.feedback },
  };
}
