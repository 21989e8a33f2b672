import { type DestinationStream, pino, type Logger as Pino } from 'pino';
import { currentRequestId } from './request-context.js';

/**
 * Structured JSON logs through pino (one line per record on stdout). Callers pass fields, never prompt text or
 * secrets; the redaction list is a second line of defence, at the top level and one level down. A record written
 * while serving a request carries its `requestId` (from the request context), whoever writes it.
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const SENSITIVE = ['authorization', 'apiKey', 'secret', 'input', 'messages', 'prompt', 'content', 'key'];
const REDACT = [...SENSITIVE, ...SENSITIVE.map((k) => `*.${k}`)];

const requestIdField = (): Record<string, string> => {
  const requestId = currentRequestId();
  return requestId === undefined ? {} : { requestId };
};

export class Logger {
  /** The process's pino instance (no name of its own); every Logger is one child of it, so `name` appears once. */
  private readonly root: Pino;
  private readonly p: Pino;
  private readonly name: string;

  constructor(name: string, level: LogLevel = 'info', destination?: DestinationStream, root?: Pino) {
    this.root =
      root ??
      pino(
        {
          level,
          base: undefined,
          redact: { paths: REDACT, censor: '[redacted]' },
          timestamp: pino.stdTimeFunctions.isoTime,
          formatters: { level: (label) => ({ level: label }) },
          mixin: requestIdField,
        },
        destination ?? pino.destination({ dest: 1, sync: true }),
      );
    this.p = this.root.child({ name });
    this.name = name;
  }

  child(name: string): Logger {
    return new Logger(`${this.name}.${name}`, undefined, undefined, this.root);
  }
  trace(msg: string, f?: Record<string, unknown>) {
    this.p.trace(f ?? {}, msg);
  }
  debug(msg: string, f?: Record<string, unknown>) {
    this.p.debug(f ?? {}, msg);
  }
  info(msg: string, f?: Record<string, unknown>) {
    this.p.info(f ?? {}, msg);
  }
  warn(msg: string, f?: Record<string, unknown>) {
    this.p.warn(f ?? {}, msg);
  }
  error(msg: string, f?: Record<string, unknown>) {
    this.p.error(f ?? {}, msg);
  }
}
