import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { apiEnvSchema } from './api/src/config.js';
import { workerEnvSchema } from './worker/src/config.js';

/**
 * The deployment files against the code, so they cannot drift apart: every environment variable the services and
 * scripts read is listed in .env.example (and nothing there is read by no one), and docker-compose.yml builds one
 * image, restarts its services, passes .env to them and probes the worker where the worker listens.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? (f === 'node_modules' || f === 'web' ? [] : files(p)) : p.endsWith('.ts') && !p.endsWith('.spec.ts') ? [p] : [];
  });

/** Upper-case names read as `env.NAME`, `process.env.NAME` or `env['NAME']` (the typed config objects use the same names). */
function readsIn(dirs: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const f of dirs.flatMap((d) => files(join(root, d))))
    for (const m of readFileSync(f, 'utf8').matchAll(/\benv(?:\.|\[')([A-Z][A-Z0-9_]{2,})\b/g)) if (!found.has(m[1])) found.set(m[1], relative(root, f));
  return found;
}

/** Names .env.example lists, set (`NAME=`) or shown commented with their default (`# NAME=`). */
const listed = new Set([...readFileSync(join(root, '.env.example'), 'utf8').matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Record<string, any>>;
};
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');

describe('.env.example', () => {
  const schemaVars = [...Object.keys(apiEnvSchema.shape), ...Object.keys(workerEnvSchema.shape)];
  const reads = readsIn(['apps', 'libs', 'scripts']);

  it('lists every variable the api, the worker and the scripts read', () => {
    expect(schemaVars.length).toBeGreaterThan(40);
    expect(reads.size).toBeGreaterThan(40);
    const missing = [...new Set([...schemaVars, ...reads.keys()])].filter((v) => !listed.has(v)).map((v) => `${v} (${reads.get(v) ?? 'env schema'})`);
    expect(missing).toEqual([]);
  });

  it('lists nothing that no one reads: service variables, compose values, test settings, and the secrets files name', () => {
    const testReads = readsIn(['test/support']);
    const interpolated = new Set([...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
    // Named by configuration: a model's apiKeyEnv (UPSTREAM_…), a configuration file key's tokenEnv (ROUTER_KEY_… by convention).
    const named = (v: string) => v.startsWith('UPSTREAM_') || v.startsWith('ROUTER_KEY_');
    const stale = [...listed].filter((v) => !schemaVars.includes(v) && !reads.has(v) && !testReads.has(v) && !interpolated.has(v) && !named(v));
    expect(stale).toEqual([]);
  });
});

describe('docker-compose.yml', () => {
  const { services } = compose;
  const app = ['api', 'worker'].map((n) => [n, services[n]] as const);

  it('builds the image once; the api and the worker run that image', () => {
    const builders = Object.entries(services).filter(([, s]) => s.build && s.profiles === undefined);
    expect(builders.map(([n]) => n)).toEqual(['migrate']);
    const image = builders[0][1].image as string;
    expect(builders[0][1].build.target).toBe('runtime');
    for (const [name, s] of app) expect({ name, image: s.image, build: s.build }).toEqual({ name, image, build: undefined });
  });

  it('passes .env to the api and the worker, restarts every long-running service, and sets only variables the code reads', () => {
    const vars = new Set([...Object.keys(apiEnvSchema.shape), ...Object.keys(workerEnvSchema.shape)]);
    for (const [name, s] of app) {
      expect({ name, envFile: s.env_file }).toEqual({ name, envFile: [{ path: '.env', required: false }] });
      expect(Object.keys(s.environment).filter((v) => !vars.has(v))).toEqual([]);
    }
    for (const name of ['redis', 'postgres', 'api', 'worker']) expect({ name, restart: services[name].restart }).toEqual({ name, restart: 'unless-stopped' });
    expect(services.migrate.restart).toBe('no');
  });

  it('probes the worker over HTTP on the port it is told to serve on', () => {
    const worker = services.worker;
    const port = Number(worker.environment.WORKER_HTTP_PORT);
    expect(port).toBeGreaterThan(0);
    expect(worker.healthcheck.test.join(' ')).toContain(`http://127.0.0.1:${port}/health/ready`);
    expect(services.api.healthcheck.test.join(' ')).toContain('http://127.0.0.1:3000/health/ready');
    // Both connection variables reach both processes (the merge of the shared anchor kept them).
    for (const [name, s] of app) expect({ name, keys: ['DATABASE_URL', 'REDIS_URL'].every((k) => k in s.environment) }).toEqual({ name, keys: true });
  });
});

describe('Dockerfile and package.json', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string }; scarfSettings?: { enabled: boolean } };

  it('runs Node 22 in the image while the package still accepts Node 20.19', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22[-.]/m);
    expect(pkg.engines.node).toBe('>=20.19');
  });

  it('installs without dependency scripts in the image and with install-time analytics off everywhere', () => {
    const installs = [...dockerfile.matchAll(/RUN npm ci[^\n]*/g)].map((m) => m[0]);
    expect(installs.length).toBeGreaterThan(0);
    expect(installs.filter((l) => !l.includes('--ignore-scripts'))).toEqual([]);
    expect(pkg.scarfSettings).toEqual({ enabled: false });
  });
});
