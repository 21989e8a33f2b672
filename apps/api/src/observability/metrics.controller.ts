import { Controller, Get, Res } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { MetricsAccess } from '../auth/scopes.js';
import { MetricsService } from './metrics.service.js';

@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  /** Prometheus text format; open unless METRICS_TOKEN is set (then that bearer token or an admin key). */
  @Get('metrics')
  @MetricsAccess()
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const text = await this.metrics.registry.metrics();
    void reply.header('content-type', this.metrics.registry.contentType).send(text);
  }
}
