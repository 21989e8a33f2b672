import { Controller, Delete, Get, Param, Query } from '@nestjs/common';
import { id, instant, text } from '@app/contracts';
import { z } from 'zod';
import { RequireScope } from '../auth/scopes.js';
import { IdParam } from '../id-param.pipe.js';
import { parseOrThrow } from '../validation.js';
import { ReadingsService } from './readings.service.js';

/** A stored event id: `<owner>|<caller's id>` (see ownedEventId), or one of the service's own ids. */
const storedEventId = text('id', 300).regex(/^[A-Za-z0-9._:@/|-]+$/, 'id may contain letters, digits and . _ : @ / | - only');
const listQuery = z
  .strictObject({
    model: id('model').optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    before: instant('before').optional(),
    /** With `before`: the last reading of the page before (readings received at the same instant are ordered by id). */
    beforeId: storedEventId.optional(),
  })
  .refine((q) => q.beforeId === undefined || q.before !== undefined, { message: 'goes with before', path: ['beforeId'] });
const deadLetterQuery = z.strictObject({
  policy: id('policy').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
@Controller('admin')
@RequireScope('admin')
export class ReadingsController {
  constructor(private readonly readings: ReadingsService) {}

  /** Model-level energy readings (the ones every policy's energy estimate rests on), newest first. */
  @Get('energy-readings')
  list(@Query() query: unknown) {
    const q = parseOrThrow(listQuery, query, 'query');
    return this.readings.list(q.model, q.limit, q.before === undefined ? undefined : { at: new Date(q.before), id: q.beforeId });
  }

  @Delete('energy-readings/:id')
  remove(@Param('id', new IdParam('id', storedEventId)) eventId: string) {
    return this.readings.remove(eventId);
  }

  /** Events the worker set aside because Postgres refused their data, newest first. */
  @Get('dead-letters')
  deadLetters(@Query() query: unknown) {
    const q = parseOrThrow(deadLetterQuery, query, 'query');
    return this.readings.deadLetters(q.policy, q.limit);
  }
}
