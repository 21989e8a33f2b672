import { Body, Controller, Get, Post, Req, Res } from '@nestjs/common';
import { chatRequestSchema, type Principal } from '@app/contracts';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { Caller, RequireScope } from '../auth/scopes.js';
import { KeyLimited } from '../limits/key-limits.guard.js';
import { parseOrThrow } from '../validation.js';
import { ProxyService } from './proxy.service.js';

@Controller()
export class ProxyController {
  constructor(private readonly proxy: ProxyService) {}

  /** OpenAI-compatible chat completions: `"model": "router/<policy>"` (routed) or a model id (direct); streaming or not. */
  @Post('v1/chat/completions')
  @RequireScope('route')
  @KeyLimited()
  async chat(@Caller() c: Principal, @Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.proxy.complete(c, parseOrThrow(chatRequestSchema, body), reply, { headers: req.headers, requestId: req.id });
  }

  @Get('v1/models')
  @RequireScope('route')
  models(@Caller() c: Principal) {
    return this.proxy.models(c);
  }
}
