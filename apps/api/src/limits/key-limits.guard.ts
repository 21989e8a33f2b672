import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Principal } from '@app/contracts';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { onResponseOver } from '../response-over.js';
import { attachSlot, CallSlot } from './call-slot.js';
import { KeyLimitsService } from './key-limits.service.js';

export const KEY_LIMITED = 'router:key-limited';
/** The endpoint counts against the caller's key limits (routing, the proxy and direct calls). */
export const KeyLimited = () => SetMetadata(KEY_LIMITED, true);

/**
 * Runs after the AuthGuard (registered after it): admits the authenticated caller of a key-limited endpoint. When
 * the key limits its calls in flight, the call's slot is given back once its response is over and no work holds
 * it (CallSlot; the handlers hold it while they work: the proxy for its upstream call).
 */
@Injectable()
export class KeyLimitsGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limits: KeyLimitsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (!this.reflector.getAllAndOverride<boolean | undefined>(KEY_LIMITED, [ctx.getHandler(), ctx.getClass()])) return true;
    const http = ctx.switchToHttp();
    const req = http.getRequest<FastifyRequest & { principal?: Principal }>();
    const end = req.principal ? await this.limits.admit(req.principal) : null;
    if (end) {
      const slot = new CallSlot(end);
      attachSlot(req, slot);
      onResponseOver(req.raw, http.getResponse<FastifyReply>().raw, () => slot.responseClosed());
    }
    return true;
  }
}
