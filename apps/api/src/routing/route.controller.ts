import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { continueRequestSchema, type Principal, routeRequestSchema } from '@app/contracts';
import { Caller, RequireScope } from '../auth/scopes.js';
import { IdParam } from '../id-param.pipe.js';
import { type FastifyRequest } from 'fastify';
import { whileHoldingSlot } from '../limits/call-slot.js';
import { KeyLimited } from '../limits/key-limits.guard.js';
import { parseOrThrow } from '../validation.js';
import { ContinueService } from './continue.service.js';
import { RoutingService } from './routing.service.js';

@Controller('v1')
@RequireScope('route')
export class RouteController {
  constructor(
    private readonly routing: RoutingService,
    private readonly cascade: ContinueService,
  ) {}

  @Post('route')
  @HttpCode(200)
  @KeyLimited()
  route(@Caller() c: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    const input = parseOrThrow(routeRequestSchema, body);
    return whileHoldingSlot(req, () => this.routing.route(c, input));
  }

  @Post('route/:decisionId/continue')
  @HttpCode(200)
  @KeyLimited()
  continue(@Caller() c: Principal, @Param('decisionId', new IdParam('decisionId')) decisionId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    const input = parseOrThrow(continueRequestSchema, body);
    return whileHoldingSlot(req, () => this.cascade.continue(c, decisionId, input));
  }
}
