import { type LoggerService } from '@nestjs/common';
import { type Logger } from './logger.js';

/**
 * Nest's own messages (bootstrap, exceptions it logs itself) written as our JSON records instead of Nest's
 * coloured text. Nest's `log`/`verbose` chatter (every mapped route at start) goes to debug/trace, so the default
 * level keeps only what an operator acts on; the context Nest passes last becomes a `context` field.
 */
export class NestJsonLogger implements LoggerService {
  constructor(private readonly out: Logger) {}

  log(message: unknown, ...rest: unknown[]) {
    this.out.debug(text(message), fields(rest));
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.out.trace(text(message), fields(rest));
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.out.debug(text(message), fields(rest));
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.out.warn(text(message), fields(rest));
  }
  error(message: unknown, ...rest: unknown[]) {
    this.out.error(text(message), { ...fields(rest), ...(message instanceof Error ? { stack: message.stack } : {}) });
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.out.error(text(message), fields(rest));
  }
}

const text = (message: unknown): string => (message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message));

/** Nest passes `(message, context)` or `(message, stack, context)`: the last string is the context. */
function fields(rest: unknown[]): Record<string, unknown> {
  const strings = rest.filter((r): r is string => typeof r === 'string');
  if (strings.length === 0) return {};
  const context = strings[strings.length - 1];
  return strings.length > 1 ? { context, stack: strings[0] } : { context };
}
