import { ESCALATION_SUFFIX, escalationPolicyName, isEscalationPolicyName, MAX_ID_LENGTH, type PolicyConfig } from '@app/contracts';
import { DomainError } from '@app/errors';
import { escalationPolicyConfig, MAX_POLICY_DIM } from '@app/learning';

/**
 * What a router's name and cascade must allow beyond its schema (a PUT, or a policy planned from a configuration
 * file): names ending in ESCALATION_SUFFIX are the service's, and a cascade's escalation policy needs a name and a
 * feature space within the limits. Errors name `name` (the policy's name) or `cascade`.
 */
export function assertRouterFits(name: string, sent: PolicyConfig): void {
  if (isEscalationPolicyName(name))
    throw new DomainError('VALIDATION', `policy names ending in ${ESCALATION_SUFFIX} are kept for the escalation policies of cascades`, [
      { path: 'name', message: `must not end in ${ESCALATION_SUFFIX}` },
    ]);
  if (sent.cascade && escalationPolicyName(name).length > MAX_ID_LENGTH)
    throw new DomainError('VALIDATION', `a policy with a cascade has a name of at most ${MAX_ID_LENGTH - ESCALATION_SUFFIX.length} characters`, [
      { path: 'name', message: `its escalation policy's name (name + ${ESCALATION_SUFFIX}) would be too long` },
    ]);
  if (sent.cascade && escalationPolicyConfig(sent).features.dim > MAX_POLICY_DIM)
    throw new DomainError('VALIDATION', `a cascade's escalation policy would need more than ${MAX_POLICY_DIM} features: fewer arms or a smaller dim`, [
      { path: 'cascade', message: 'too many arms and features for a cascade' },
    ]);
}
