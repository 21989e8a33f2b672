import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** `--name value` pairs of a diagnostic bench's command line, by name without the dashes. */
export function benchArgs(argv: readonly string[] = process.argv.slice(2)): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i].replace(/^--/, ''), argv[i + 1]);
  return args;
}

/** A replay file as given, else in REPLAY_DATA_DIR (default ../shared/data), as the replay CLI finds it. */
export const replayDataPath = (file: string): string => (existsSync(file) ? file : join(process.env.REPLAY_DATA_DIR ?? '../shared/data', file));
