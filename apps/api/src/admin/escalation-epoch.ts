import { escalationPolicyName, type Policy } from '@app/contracts';
import { type PoliciesRepository } from '@app/persistence';
import { type PolicyStateStore, type RegistryStore } from '@app/store';

/**
 * Starts the escalation policy of `router` (if it has one) over in a new epoch: its features hold the router's arm
 * order (one-hots) and the router's context, so whatever changes their meaning (a new router epoch, a reset, a
 * featurizer upgrade, a new arm order) makes its statistics meaningless. Audited as a reset.
 */
export async function newEscalationEpoch(
  deps: { policies: PoliciesRepository; state: PolicyStateStore; registry: RegistryStore },
  router: Pick<Policy, 'name'>,
  actor: string,
): Promise<Policy | null> {
  const name = escalationPolicyName(router.name);
  const p = await deps.policies.update(name, actor, 'reset', (c) => c, true);
  if (!p) return null;
  await deps.state.replace(deps.state.policyTarget(name), p.epoch, new Map());
  await deps.registry.putPolicy(p);
  return p;
}
