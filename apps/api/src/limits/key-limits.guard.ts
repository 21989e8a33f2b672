import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Principal } from '@app/contracts';
import { KeyLimitsService } from './key-limits.service.js';

export const KEY_LIMITED = 'router:key-limited';
/** The endpoint counts against the caller's key limits (routing, the proxy and direct calls). */
export const KeyLimited = () => SetMetadata(KEY_LIMITED, true);

/** Runs after the AuthGuard (registered after it): admits the authenticated caller of a key-limited endpoint. */
@Injectable()
export class KeyLimitsGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limits: KeyLimitsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (!this.reflector.getAllAndOverride<boolean | undefined>(KEY_LIMITED, [ctx.getHandler(), ctx.getClass()])) return true;
    const principal = ctx.switchToHttp().getRequest<{ principal?: Principal }>().principal;
    if (principal) await this.limits.admit(principal);
    return true;
  }
}
