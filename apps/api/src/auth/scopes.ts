import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { type Principal, type Scope } from '@app/contracts';
import { DomainError } from '@app/errors';

export const SCOPE_KEY = 'router:scope';
/** The scope an endpoint needs. `route` endpoints also accept admin keys. Endpoints without it are public. */
export const RequireScope = (scope: Scope) => SetMetadata(SCOPE_KEY, scope);

/** The authenticated caller (set by the AuthGuard). */
export const Caller = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const p = ctx.switchToHttp().getRequest<{ principal?: Principal }>().principal;
  if (!p) throw new DomainError('UNAUTHENTICATED', 'missing credentials');
  return p;
});

/** Whether a key may use a policy: admin keys always; route keys if unrestricted or listed. */
export function assertPolicyAccess(p: Principal, policy: string): void {
  if (p.scope === 'admin' || p.policies === null || p.policies.includes(policy)) return;
  throw new DomainError('FORBIDDEN', `this key may not use policy ${policy}`);
}
