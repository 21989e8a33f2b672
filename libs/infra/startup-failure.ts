/**
 * The one log line a process writes when it cannot start (an invalid configuration file, a database that refuses
 * the migrations' schema, …): a JSON record like every other line, naming the fields at fault when the error
 * carries them (`problems`), instead of an uncaught stack trace on stderr.
 */
export function startupFailureRecord(name: string, err: unknown, now = new Date()): Record<string, unknown> {
  const e = err instanceof Error ? err : new Error(String(err));
  const problems = (e as { problems?: unknown }).problems;
  return {
    level: 'fatal',
    time: now.toISOString(),
    name,
    msg: 'failed to start',
    error: e.message,
    errorName: e.name,
    ...(Array.isArray(problems) ? { problems } : {}),
  };
}

/** Writes the startup failure record to stdout and exits with status 1. */
export function exitOnStartupFailure(name: string): (err: unknown) => never {
  return (err) => {
    process.stdout.write(`${JSON.stringify(startupFailureRecord(name, err))}\n`);
    process.exit(1);
  };
}
