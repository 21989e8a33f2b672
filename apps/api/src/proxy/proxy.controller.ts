import { Body, Controller, Get, Headers, Post, Res } from '@nestjs/common';
import { chatRequestSchema, type Principal } from '@app/contracts';
import { type FastifyReply } from 'fastify';
import { Caller, MetricsAccess, RequireScope } from '../auth/scopes.js';
import { parseOrThrow } from '../validation.js';
import { MetricsService } from './metrics.service.js';
import { ProxyService } from './proxy.service.js';

@Controller()
export class ProxyController {
  constructor(
    private readonly proxy: ProxyService,
    private readonly metrics: MetricsService,
  ) {}

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

  /** Prometheus text format; open unless METRICS_TOKEN is set (then that bearer token or an admin key). */
  @Get('metrics')
  @MetricsAccess()
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const text = await this.metrics.registry.metrics();
    void reply.header('content-type', this.metrics.registry.contentType).send(text);
  }
}
