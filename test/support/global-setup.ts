import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import postgres from 'postgres';
import { Redis } from 'ioredis';

/**
 * Jest global setup of the integration and e2e projects (see jest.config.js): the tests need a Redis and a
 * Postgres, named by REDIS_URL and TEST_DATABASE_ADMIN_URL (defaults redis://127.0.0.1:6379 and
 * postgres://postgres@127.0.0.1:5432/postgres). Each one that answers is used as it is. One where nothing listens,
 * when its URL points at this machine, is started privately on that port from the installed binaries
 * (redis-server; initdb and pg_ctl of the Postgres installation, trust auth, data in a temp directory) and stopped
 * by global-teardown.ts, so `npm test` needs nothing running beforehand. TEST_SERVICES=external turns that off
 * (a service that does not answer is then an error).
 *
 * The URLs reach the test files through process.env: set here, before Jest creates the test environments
 * (--runInBand) or starts its worker processes, both of which copy it (checked both ways).
 *
 * Jest loads this file through require(), so it imports only Node and packages, no project modules.
 */

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** What global-teardown stops (kept on globalThis: setup and teardown run in the same process). */
export interface StartedServices {
  redis?: { proc: ChildProcess; dir: string };
  postgres?: { dataDir: string; dir: string; asRoot: boolean };
  cleanup: () => void;
  onSignal: (signal: NodeJS.Signals) => void;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '']);

const errCode = (e: unknown) => (e as { code?: string }).code ?? '';
const log = (msg: string) => process.stderr.write(`global-setup: ${msg}\n`);

/** Whether anything accepts a TCP connection at the URL's host and port (refused or unreachable: false). */
function listening(url: URL, defaultPort: number): Promise<boolean> {
  return new Promise((resolve) => {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
    const socket = connect({ host, port: Number(url.port || defaultPort) });
    socket.setTimeout(2000);
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** 'down' when nothing listens there; 'up' when a Redis answers PING; anything else listening is an error. */
async function redisState(url: string): Promise<'up' | 'down'> {
  if (!(await listening(new URL(url), 6379))) return 'down';
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  r.on('error', () => undefined);
  try {
    await within(
      r.connect().then(() => r.ping()),
      5000,
      'Redis',
    );
    return 'up';
  } catch (e) {
    throw new Error(`${url} is not a usable Redis: ${(e as Error).message}`, { cause: e });
  } finally {
    r.disconnect();
  }
}

async function postgresState(url: string): Promise<'up' | 'down'> {
  if (!(await listening(new URL(url), 5432))) return 'down';
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => undefined });
  try {
    await within(sql`select 1`.execute(), 5000, 'Postgres');
    return 'up';
  } catch (e) {
    throw new Error(`${url} is not a usable Postgres: ${(e as Error).message}`, { cause: e });
  } finally {
    void sql.end({ timeout: 0 });
  }
}

/** A Postgres program: the newest /usr/lib/postgresql/N/bin (Debian, Ubuntu), `pg_config --bindir`, or PATH. */
export function pgBin(name: string): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', name))) return join(base, v, 'bin', name);
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    if (existsSync(join(dir, name))) return join(dir, name);
  } catch {
    // no pg_config: PATH
  }
  return name;
}

function assertLocal(what: string, url: URL): void {
  if (!LOCAL_HOSTS.has(url.hostname))
    throw new Error(`${what} at ${url.host} does not answer, and it is not on this machine: start it, or point the URL at a local port`);
  if (process.env.TEST_SERVICES === 'external') throw new Error(`${what} at ${url.host} does not answer (TEST_SERVICES=external: nothing is started)`);
}

const missing = (bin: string, e: unknown) =>
  new Error(
    `cannot start ${bin} (${(e as Error).message}). Install Redis and Postgres (e.g. apt-get install redis-server postgresql), ` +
      'start your own and set REDIS_URL / TEST_DATABASE_ADMIN_URL, or run the suite in Docker: docker compose --profile test run --rm test',
    { cause: e },
  );

/** `p`, or a rejection after `ms` (a host that accepts connections and never answers). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`${what} did not come up within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts redis-server on the URL's port; recorded in `s` at once, so a failed start is cleaned up too. */
async function startRedis(url: URL, s: StartedServices): Promise<string> {
  const port = url.port || '6379';
  const dir = mkdtempSync(join(tmpdir(), 'router-test-redis-'));
  const auth = url.password ? ['--requirepass', decodeURIComponent(url.password)] : [];
  const args = ['--port', port, '--bind', '127.0.0.1', '-::1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction', ...auth];
  const proc = spawn('redis-server', args, { stdio: 'ignore' });
  proc.unref();
  s.redis = { proc, dir };
  const failed = new Promise<never>((_, reject) => {
    proc.on('error', (e) => reject(missing('redis-server', e)));
    proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}) on port ${port}`)));
  });
  await Promise.race([failed, waitFor(async () => (await redisState(url.toString())) === 'up', 20_000, `redis-server on port ${port}`)]);
  proc.removeAllListeners('exit');
  return dir;
}

/** initdb + pg_ctl start on the URL's port (trust auth), and the URL's database; recorded in `s` at once. */
async function startPostgres(url: URL, s: StartedServices): Promise<string> {
  const port = url.port || '5432';
  const user = decodeURIComponent(url.username) || 'postgres';
  const database = decodeURIComponent(url.pathname.slice(1)) || user;
  const dir = mkdtempSync(join(tmpdir(), 'router-test-pg-'));
  const dataDir = join(dir, 'data');
  // Postgres refuses to run as root: its programs then run as the postgres user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  s.postgres = { dataDir, dir, asRoot };
  const run = (bin: string, args: string[]) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', pgBin(bin), ...args]] : [pgBin(bin), args];
    try {
      execFileSync(cmd, argv, { stdio: 'pipe' });
    } catch (e) {
      if (errCode(e) === 'ENOENT') throw missing(bin, e);
      throw new Error(`${bin} failed: ${(e as { stderr?: Buffer }).stderr?.toString() || (e as Error).message}`, { cause: e });
    }
  };
  run('initdb', ['-D', dataDir, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=localhost -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
  run('pg_ctl', ['-D', dataDir, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  if (database !== 'postgres') {
    const admin = postgres({ host: '127.0.0.1', port: Number(port), user, database: 'postgres', max: 1, onnotice: () => undefined });
    await admin.unsafe(`create database "${database.replace(/"/g, '""')}"`);
    await admin.end();
  }
  return dir;
}

/** Stops whatever was started (idempotent; also run at process exit should the teardown never run). */
function stopper(s: StartedServices): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (s.redis) {
      s.redis.proc.kill('SIGKILL');
      rmSync(s.redis.dir, { recursive: true, force: true });
    }
    if (s.postgres) {
      const args = ['-D', s.postgres.dataDir, '-m', 'immediate', '-w', 'stop'];
      try {
        if (s.postgres.asRoot) execFileSync('runuser', ['-u', 'postgres', '--', pgBin('pg_ctl'), ...args], { stdio: 'ignore' });
        else execFileSync(pgBin('pg_ctl'), args, { stdio: 'ignore' });
      } catch {
        // already stopped
      }
      rmSync(s.postgres.dir, { recursive: true, force: true });
    }
  };
}

export default async function globalSetup(): Promise<void> {
  const redisUrl = process.env.REDIS_URL || DEFAULT_REDIS_URL;
  const pgUrl = process.env.TEST_DATABASE_ADMIN_URL || DEFAULT_PG_ADMIN_URL;
  const started: StartedServices = { cleanup: () => undefined, onSignal: () => undefined };
  started.cleanup = stopper(started);
  // An interrupted run (Ctrl-C) stops them too: pg_ctl detaches Postgres from the terminal's process group.
  started.onSignal = (signal: NodeJS.Signals) => {
    started.cleanup();
    process.removeListener('SIGINT', started.onSignal);
    process.removeListener('SIGTERM', started.onSignal);
    process.kill(process.pid, signal);
  };
  process.once('exit', started.cleanup);
  process.once('SIGINT', started.onSignal);
  process.once('SIGTERM', started.onSignal);
  (globalThis as Record<string, unknown>).__routerTestServices = started;
  // Both checked, then both started side by side; every start is awaited before a failure cleans up (no orphan).
  const [redisUp, pgUp] = await Promise.all([redisState(redisUrl), postgresState(pgUrl)]);
  const starts = await Promise.allSettled([
    redisUp === 'down' &&
      (async () => {
        const u = new URL(redisUrl);
        assertLocal('Redis', u);
        const dir = await startRedis(u, started);
        log(`nothing answered at ${u.host}: started a private redis-server there (${dir}), stopped after the run`);
      })(),
    pgUp === 'down' &&
      (async () => {
        const u = new URL(pgUrl);
        assertLocal('Postgres', u);
        const dir = await startPostgres(u, started);
        log(`nothing answered at ${u.host}: started a private Postgres there (${dir}, trust auth), stopped after the run`);
      })(),
  ]);
  const failed = starts.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    started.cleanup();
    throw failed.reason;
  }
  process.env.REDIS_URL = redisUrl;
  process.env.TEST_DATABASE_ADMIN_URL = pgUrl;
}
