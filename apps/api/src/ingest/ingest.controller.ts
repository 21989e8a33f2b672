import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { energyBatchSchema, feedbackBatchSchema, type Principal } from '@app/contracts';
import { Caller, RequireScope } from '../auth/scopes.js';
import { KeyLimitsService } from '../limits/key-limits.service.js';
import { parseOrThrow } from '../validation.js';
import { IngestService } from './ingest.service.js';

/** The event endpoints; each request's events count against the caller's `eventsPerMinute` before anything else. */
@Controller('v1')
@RequireScope('route')
export class IngestController {
  constructor(
    private readonly ingest: IngestService,
    private readonly limits: KeyLimitsService,
  ) {}

  @Post('feedback')
  @HttpCode(202)
  async feedback(@Caller() c: Principal, @Body() body: unknown, @Headers('idempotency-key') key?: string) {
    await this.limits.admitEvents(c, 1);
    return this.ingest.one('feedback', c, body, key);
  }

  /** A duel's outcome: which of its two models won, or "tie". */
  @Post('feedback/pairwise')
  @HttpCode(202)
  async pairwise(@Caller() c: Principal, @Body() body: unknown, @Headers('idempotency-key') key?: string) {
    await this.limits.admitEvents(c, 1);
    return this.ingest.one('pairwise', c, body, key);
  }

  @Post('feedback/batch')
  @HttpCode(202)
  async feedbackBatch(@Caller() c: Principal, @Body() body: unknown, @Headers('idempotency-key') key?: string) {
    const { events } = parseOrThrow(feedbackBatchSchema, body);
    await this.limits.admitEvents(c, events.length);
    return { results: await this.ingest.many('feedback', c, events, key) };
  }

  @Post('energy')
  @RequireScope('telemetry')
  @HttpCode(202)
  async energy(@Caller() c: Principal, @Body() body: unknown, @Headers('idempotency-key') key?: string) {
    await this.limits.admitEvents(c, 1);
    return this.ingest.one('energy', c, body, key);
  }

  @Post('energy/batch')
  @RequireScope('telemetry')
  @HttpCode(202)
  async energyBatch(@Caller() c: Principal, @Body() body: unknown, @Headers('idempotency-key') key?: string) {
    const { events } = parseOrThrow(energyBatchSchema, body);
    await this.limits.admitEvents(c, events.length);
    return { results: await this.ingest.many('energy', c, events, key) };
  }
}
