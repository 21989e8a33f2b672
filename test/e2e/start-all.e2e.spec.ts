import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, freshEnvironment, REDIS_URL } from '../support/harness.js';
import { freePort } from '../support/private-services.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Whether something accepts connections on 127.0.0.1:port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => resolve(!!s.destroy()));
    s.once('error', () => resolve(false));
  });

/** Processes started with this prefix in their environment (what a failed run leaves behind), killed. */
function killLeftovers(prefix: string): void {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d)))
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`REDIS_PREFIX=${prefix}`)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone meanwhile, or not ours to read
    }
}

/**
 * `npm start` runs dist/scripts/start-all.js under a shell that npm signals; the shell exits on SIGTERM without
 * passing it on. The api and the worker must stop all the same once start-all's parent is gone, not keep the
 * port. Here the parent is a plain process killed with SIGKILL, the harshest form of the same.
 */
describe('npm start (start-all)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  beforeAll(async () => {
    env = await freshEnvironment('start_all');
  });
  afterAll(async () => {
    killLeftovers(env.prefix);
    await env.drop();
  });

  it('stops the api and the worker when the process that started it goes away', async () => {
    const startAll = join(root, 'dist/scripts/start-all.js');
    if (!existsSync(startAll)) throw new Error(`${startAll} is missing: run npm run build first`);
    const [port, workerPort] = [await freePort(), await freePort()];
    const childEnv = {
      ...process.env,
      DATABASE_URL: env.databaseUrl,
      REDIS_URL,
      REDIS_PREFIX: env.prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      WORKER_HTTP_PORT: String(workerPort),
      ADMIN_API_KEY: 'start-all-admin-key-0123456789',
      LOG_LEVEL: 'error',
      // As npm runs it (`npm start`): the shell between them is the parent that goes.
      npm_lifecycle_event: 'start',
    };
    const parent = spawn(
      process.execPath,
      ['-e', `require('node:child_process').spawn(process.execPath, [${JSON.stringify(startAll)}], { stdio: 'ignore' }); setInterval(() => {}, 1e6);`],
      { env: childEnv, stdio: 'ignore' },
    );
    try {
      await eventually(async () => (await listening(port)) && (await listening(workerPort)), 60_000);
    } finally {
      parent.kill('SIGKILL');
    }
    await eventually(async () => !(await listening(port)) && !(await listening(workerPort)), 15_000);
  }, 90_000);
});
