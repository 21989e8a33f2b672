import { type PipeTransform } from '@nestjs/common';
import { id as idSchema } from '@app/contracts';
import { parseOrThrow } from './validation.js';

/** Validates a path id (policy name, model or key id) before it reaches Redis or Postgres: 400 naming it. */
export class IdParam implements PipeTransform<string, string> {
  constructor(private readonly what: string) {}

  transform(value: string): string {
    return parseOrThrow(idSchema(this.what), value, 'path');
  }
}
