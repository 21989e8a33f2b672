import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { energyBatchSchema, feedbackBatchSchema, type Principal } from '@app/contracts';
import { Caller, RequireScope } from '../auth/scopes.js';
import { parseOrThrow } from '../validation.js';
import { IngestService } from './ingest.service.js';

@Controller('v1')
@RequireScope('route')
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  @Post('feedback')
  @HttpCode(202)
  feedback(@Caller() c: Principal, @Body() body: unknown, @Headers('idempotency-key') key?: string) {
    return this.ingest.one('feedback', c, body, key);
  }

  /** A duel's outcome: which of its two models won, or "tie". */
  @Post('feedback/pairwise')
  @HttpCode(202)
  pairwise(@Caller() c: Principal, @Body() body: unknown, @Headers('idempotency-key') key?: string) {
    return this.ingest.one('pairwise', c, body, key);
  }

  @Post('feedback/batch')
  @HttpCode(202)
  async feedbackBatch(@Caller() c: Principal, @Body() body: unknown, @Headers('idempotency-key') key?: string) {
    return { results: await this.ingest.many('feedback', c, parseOrThrow(feedbackBatchSchema, body).events, key) };
  }

  @Post('energy')
  @RequireScope('telemetry')
  @HttpCode(202)
  energy(@Caller() c: Principal, @Body() body: unknown, @Headers('idempotency-key') key?: string) {
    return this.ingest.one('energy', c, body, key);
  }

  @Post('energy/batch')
  @RequireScope('telemetry')
  @HttpCode(202)
  async energyBatch(@Caller() c: Principal, @Body() body: unknown, @Headers('idempotency-key') key?: string) {
    return { results: await this.ingest.many('energy', c, parseOrThrow(energyBatchSchema, body).events, key) };
  }
}
