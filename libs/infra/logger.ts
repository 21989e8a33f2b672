/**
 * Minimal structured JSON logger (one line per record on stdout). Callers pass fields, never prompt text or
 * secrets; the `redact` list is a second line of defence.
 */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;
const REDACT = new Set(['authorization', 'apiKey', 'secret', 'input', 'messages', 'prompt', 'content']);

export class Logger {
  constructor(
    private readonly name: string,
    private readonly level: LogLevel = 'info',
  ) {}
  child(name: string) {
    return new Logger(`${this.name}.${name}`, this.level);
  }
  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>) {
    if (LEVELS[level] < LEVELS[this.level]) return;
    const rec: Record<string, unknown> = { level, time: new Date().toISOString(), name: this.name, msg };
    if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = REDACT.has(k) ? '[redacted]' : v;
    process.stdout.write(`${JSON.stringify(rec)}\n`);
  }
  debug(msg: string, f?: Record<string, unknown>) {
    this.write('debug', msg, f);
  }
  info(msg: string, f?: Record<string, unknown>) {
    this.write('info', msg, f);
  }
  warn(msg: string, f?: Record<string, unknown>) {
    this.write('warn', msg, f);
  }
  error(msg: string, f?: Record<string, unknown>) {
    this.write('error', msg, f);
  }
}
