import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { type Principal, type Scope } from '@app/contracts';
import { DomainError } from '@app/errors';

export const SCOPE_KEY = 'router:scope';
/**
 * The scope an endpoint needs. Admin keys may call everything; `route` endpoints take route keys; `telemetry`
 * endpoints (energy readings) take route and telemetry keys. Endpoints without it are public.
 */
export const RequireScope = (scope: Scope) => SetMetadata(SCOPE_KEY, scope);

/** Whether a key of scope `have` may call an endpoint that needs `need`. */
export function scopeAllows(need: Scope, have: Scope): boolean {
  switch (need) {
    case 'admin':
      return have === 'admin';
    case 'route':
      return have === 'route' || have === 'admin';
    case 'telemetry':
      return true;
  }
}

export const METRICS_KEY = 'router:metrics';
/** The metrics endpoint: open unless METRICS_TOKEN is set, then that token or an admin key (see AuthGuard). */
export const MetricsAccess = () => SetMetadata(METRICS_KEY, true);

/** The authenticated caller (set by the AuthGuard). */
export const Caller = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const p = ctx.switchToHttp().getRequest<{ principal?: Principal }>().principal;
  if (!p) throw new DomainError('UNAUTHENTICATED', 'missing credentials');
  return p;
});

/**
 * The answer for a policy that does not exist and, to a key that may not use it, for one that does: the same
 * problem, so a restricted key cannot learn which policy names exist.
 */
export const policyNotFound = (policy: string) =>
  new DomainError('POLICY_NOT_FOUND', `policy ${policy} does not exist`, [{ path: 'policy', message: 'unknown policy' }]);

/** Whether a key may use a policy: admin keys always; other keys if unrestricted or listed. */
export const mayUsePolicy = (p: Principal, policy: string): boolean => p.scope === 'admin' || p.policies === null || p.policies.includes(policy);

/** A key may use the policy (mayUsePolicy), else the policy's 404. Check before existence. */
export function assertPolicyAccess(p: Principal, policy: string): void {
  if (!mayUsePolicy(p, policy)) throw policyNotFound(policy);
}
