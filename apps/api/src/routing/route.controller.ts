import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { type Principal, routeRequestSchema } from '@app/contracts';
import { Caller, RequireScope } from '../auth/scopes.js';
import { KeyLimited } from '../limits/key-limits.guard.js';
import { parseOrThrow } from '../validation.js';
import { RoutingService } from './routing.service.js';

@Controller('v1')
@RequireScope('route')
export class RouteController {
  constructor(private readonly routing: RoutingService) {}

  @Post('route')
  @HttpCode(200)
  @KeyLimited()
  route(@Caller() c: Principal, @Body() body: unknown) {
    return this.routing.route(c, parseOrThrow(routeRequestSchema, body));
  }
}
