import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { eventually } from './harness.js';

/**
 * Private Redis and Postgres servers and built api/worker processes for the fault tests: each test owns what it
 * kills and restarts (never the shared instances on 6379 / 5432).
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: no shutdown save, in-flight replies lost. */
  kill(): void;
  /** Starts it again on the same port (and, with AOF, the same data directory). */
  restart(): Promise<void>;
  stop(): void;
}

/**
 * A redis-server on a free port. With `aof`, writes go to an append-only file before the reply ('everysec', as in
 * docker-compose.yml: a killed process loses nothing acknowledged, a lost machine up to 1 s; 'always' fsyncs
 * each write).
 */
export async function startPrivateRedis(opts: { aof?: 'everysec' | 'always'; port?: number } = {}): Promise<PrivateRedis> {
  const port = opts.port ?? (await freePort()); // a given port: e.g. one a process was told to use before Redis ran there
  const dir = mkdtempSync(join(tmpdir(), 'router-redis-'));
  const persistence = opts.aof ? ['--appendonly', 'yes', '--appendfsync', opts.aof] : ['--appendonly', 'no'];
  let proc: ChildProcess;
  const start = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...persistence], { stdio: 'ignore' });
    const r = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
    await r.connect().catch(() => undefined);
    // With AOF, PING answers only after the file has been loaded.
    await eventually(async () => (await r.ping().catch(() => '')) === 'PONG', 20_000);
    r.disconnect();
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => void proc.kill('SIGKILL'),
    restart: start,
    stop() {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateRedisCluster {
  readonly ports: number[];
  /** REDIS_CLUSTER_NODES for the service: every master as host:port. */
  readonly nodes: string;
  /** SIGKILL every node and remove their directory. */
  stop(): void;
}

/**
 * A Redis Cluster of `masters` nodes and no replicas from the installed redis-server (no persistence, data in a
 * temp directory), created with `redis-cli --cluster create`; resolves once every node reports all 16384 slots
 * served. Each node gets a free port and a free cluster-bus port (port + 10000, the default, may be taken or out
 * of range).
 */
export async function startPrivateRedisCluster(masters = 3): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'router-redis-cluster-'));
  const procs: ChildProcess[] = [];
  const taken = new Set<number>();
  const port = async () => {
    for (;;) {
      const p = await freePort();
      if (taken.has(p)) continue;
      taken.add(p);
      return p;
    }
  };
  const ports: number[] = [];
  const stop = () => {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const [p, bus] = [await port(), await port()];
      const nodeDir = join(dir, String(p));
      mkdirSync(nodeDir);
      // prettier-ignore
      const args = ['--port', String(p), '--cluster-port', String(bus), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--dir', nodeDir];
      procs.push(spawn('redis-server', args, { stdio: 'ignore' }));
      ports.push(p);
    }
    const clients = ports.map((p) => new Redis(p, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null }));
    try {
      for (const c of clients) {
        await c.connect().catch(() => undefined);
        await eventually(async () => (await c.ping().catch(() => '')) === 'PONG', 20_000);
      }
      const addresses = ports.map((p) => `127.0.0.1:${p}`);
      await promisify(execFile)('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
      const served = async (c: Redis) => {
        const info = await c.cluster('INFO');
        return /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info);
      };
      await eventually(async () => (await Promise.all(clients.map(served))).every(Boolean), 20_000, 100);
    } finally {
      for (const c of clients) c.disconnect();
    }
  } catch (err) {
    stop();
    throw err;
  }
  return { ports, nodes: ports.map((p) => `127.0.0.1:${p}`).join(','), stop };
}

export interface PrivatePostgres {
  readonly url: string;
  /**
   * `pg_ctl stop -m immediate`: every connection drops at once, as in a crash. Stop and start run pg_ctl without
   * blocking this process: a test's load generator keeps its schedule (a blocked event loop would stretch the
   * latencies it measures and then send the overdue requests in a burst).
   */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): void;
}

function pgBin(name: string): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', name))) return join(base, v, 'bin', name);
  return name; // on PATH
}

/** A throwaway Postgres cluster (initdb, trust auth, fsync off) on a free port with one migrated-later database. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'router-pg-'));
  const data = join(dir, 'data');
  // Postgres refuses to run as root: run its tools as the postgres user then.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const command = (bin: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', pgBin(bin), ...args]] : [pgBin(bin), args];
  const run = (bin: string, args: string[]) => execFileSync(...command(bin, args), { stdio: 'pipe' });
  const runAsync = async (bin: string, args: string[]) => void (await promisify(execFile)(...command(bin, args)));
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = () => runAsync('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
  await start();
  const admin = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => undefined });
  await admin.unsafe('create database router');
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/router`,
    stop: () => runAsync('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    start,
    destroy() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A built api or worker in a child process, with the last lines it wrote to stderr (for a failing test). */
export interface Spawned {
  proc: ChildProcess;
  stderr: string[];
}

/**
 * Starts the built api or worker (`npm run build` first; `npm test` does) as a child process and resolves once
 * it says it is up. Its stderr is kept (last 200 lines), not printed: the fault tests make it complain.
 */
export async function spawnBuilt(app: 'api' | 'worker', env: Record<string, string>): Promise<Spawned> {
  const main = join(root, 'dist/apps', app, 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const proc = spawn(process.execPath, [main], { env: { ...process.env, LOG_LEVEL: 'error', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  proc.stderr.on('data', (b: Buffer) => {
    stderr.push(...b.toString().split('\n').filter(Boolean));
    if (stderr.length > 200) stderr.splice(0, stderr.length - 200);
  });
  const ready = app === 'api' ? /api listening/ : /worker started/;
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    let up = false;
    proc.stdout.on('data', (b: Buffer) => {
      if (!up && ready.test((seen += b.toString()))) {
        up = true;
        resolve();
      }
    });
    proc.once('exit', (code, signal) => reject(new Error(`${app} exited (${code ?? signal}) before it was up:\n${stderr.join('\n')}`)));
  });
  return { proc, stderr };
}

/** The built api (on a free port) and one worker in child processes; `vars` names the database, Redis and prefix, `extra` adds settings. */
export async function spawnService(
  vars: { DATABASE_URL: string; REDIS_URL: string; REDIS_PREFIX: string; ADMIN_API_KEY: string },
  extra: Record<string, string> = {},
) {
  const port = await freePort();
  const env = { ...vars, ...extra, PORT: String(port), HOST: '127.0.0.1' };
  const api = await spawnBuilt('api', env);
  // A short job lock: the jobs of a killed worker (or of a worker cut off from Redis) return within ~4 s.
  const worker = await spawnBuilt('worker', { ...env, WORKER_LOCK_MS: '2000' });
  return {
    url: `http://127.0.0.1:${port}`,
    api,
    worker,
    kill() {
      worker.proc.kill('SIGKILL');
      api.proc.kill('SIGKILL');
    },
  };
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
