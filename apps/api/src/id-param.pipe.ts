import { type PipeTransform } from '@nestjs/common';
import { id as idSchema } from '@app/contracts';
import { z } from 'zod';
import { parseOrThrow } from './validation.js';

/** Validates a path id (policy name, model or key id) before it reaches Redis or Postgres: 400 naming it. */
export class IdParam implements PipeTransform<string, string> {
  private readonly schema: z.ZodType<Record<string, string>>;

  /** `what`: the path parameter's name, the field a 400 names; `id`: what it must be (an id by default). */
  constructor(
    private readonly what: string,
    id: z.ZodType<string> = idSchema(what),
  ) {
    this.schema = z.object({ [what]: id });
  }

  transform(value: string): string {
    return parseOrThrow(this.schema, { [this.what]: value }, 'path')[this.what];
  }
}
