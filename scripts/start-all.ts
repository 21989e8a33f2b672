import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from './migrate.js';
import { DEFAULT_DATABASE_URL } from '../libs/infra/config.js';

/**
 * `npm start`: applies pending migrations, then runs one api and one worker process, restarting neither
 * (use a process manager or docker compose in production). Ctrl-C stops both, and so does a SIGTERM to this
 * process or to the `npm start` above it: npm passes the signal to the shell running the script, which exits
 * without passing it on, so when npm runs it (`npm_lifecycle_event` set) this process also stops both once that
 * shell is gone. Run by hand (detached, say), it outlives the shell that started it.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const parent = process.ppid;
const parentGone = () => process.env.npm_lifecycle_event !== undefined && process.ppid !== parent;
await migrate(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
// Stopped while migrating: start nothing.
if (parentGone()) process.exit(0);
const children = ['apps/worker/main.js', 'apps/api/main.js'].map((f) => spawn(process.execPath, [join(root, f)], { stdio: 'inherit' }));
const stop = () => children.forEach((c) => c.kill('SIGTERM'));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => parentGone() && stop(), 500).unref();
for (const c of children)
  c.on('exit', (code) => {
    if (code !== 0 && code !== null) {
      console.error(`${c.spawnargs[1]} exited with ${code}; stopping`);
      stop();
      process.exitCode = code;
    }
  });
