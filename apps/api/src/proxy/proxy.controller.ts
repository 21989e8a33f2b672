import { Body, Controller, Get, Headers, Post, Res } from '@nestjs/common';
import { chatRequestSchema, type Principal } from '@app/contracts';
import { type FastifyReply } from 'fastify';
import { Caller, RequireScope } from '../auth/scopes.js';
import { parseOrThrow } from '../validation.js';
import { ProxyService } from './proxy.service.js';

@Controller()
export class ProxyController {
  constructor(private readonly proxy: ProxyService) {}

  /** OpenAI-compatible chat completions with `"model": "router/<policy>"` (streaming or not). */
  @Post('v1/chat/completions')
  @RequireScope('route')
  async chat(@Caller() c: Principal, @Body() body: unknown, @Res() reply: FastifyReply, @Headers() headers: Record<string, string>): Promise<void> {
    await this.proxy.complete(c, parseOrThrow(chatRequestSchema, body), reply, headers);
  }

  @Get('v1/models')
  @RequireScope('route')
  models(@Caller() c: Principal) {
    return this.proxy.models(c);
  }
}
