import { RouterClient } from '@app/client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApi } from '../../apps/api/src/bootstrap.js';
import { apiEnvSchema } from '../../apps/api/src/config.js';
import { configApply } from '../../scripts/config-apply.js';
import { ADMIN_KEY, client, freshEnvironment, REDIS_URL, type Running, startService } from '../support/harness.js';

type Env = Awaited<ReturnType<typeof freshEnvironment>>;

const TOKEN_A = 'cfg-e2e-token-aaaaaaaaaaaa';
const TOKEN_B = 'cfg-e2e-token-bbbbbbbbbbbb';

const yaml = (energy: number, extra = '', rpm = 1000) => `
models:
  small: { pricing: { inputPerMTok: 0.05, outputPerMTok: 0.1 }, energy: { joulesPerOutputToken: 0.1 } }
  large: { pricing: { inputPerMTok: 0.5, outputPerMTok: 1.5 } }
policies:
  cfg:
    algorithm: linucb
    arms: [small, large]
    objective: { quality: 1, energy: ${energy} }
    budget: { costUsdPerRequest: 0.01 }
keys:
  app:
    name: app
    scope: route
    policies: [cfg]
    limits: { requestsPerMinute: ${rpm} }
    tokenEnv: CFG_E2E_TOKEN
${extra}`;

/**
 * Configuration as code against real Postgres and Redis: a file applied at api start (ROUTER_CONFIG) and by the
 * config:apply command, twice without any change the second time, then changed (field-level plan, one new policy
 * version and audit entry, a rotated key), concurrently (the advisory lock), and refused when invalid.
 */
describe('configuration file', () => {
  let env: Env;
  let svc: Running | undefined;
  let dir: string;
  let file: string;

  const cli = async (...args: string[]) => {
    const lines: string[] = [];
    const code = await configApply(
      args,
      {
        DATABASE_URL: env.databaseUrl,
        REDIS_URL,
        REDIS_PREFIX: env.prefix,
        ADMIN_API_KEY: ADMIN_KEY,
        LOG_LEVEL: 'error',
        CFG_E2E_TOKEN: process.env.CFG_E2E_TOKEN,
      },
      (l) => lines.push(l),
    );
    return { code, out: lines.join('\n') };
  };
  const snapshot = async (c: ReturnType<typeof client>) => {
    const policy = (await c.get('/admin/policies/cfg')).body;
    return {
      version: policy.version,
      epoch: policy.epoch,
      audit: (await c.get('/admin/policies/cfg/audit')).body.audit.length,
      keys: (await c.get('/admin/keys')).body.keys.map((k: any) => `${k.id}:${k.revokedAt ?? ''}`),
      models: (await c.get('/admin/models')).body.models.map((m: any) => ({ ...m, breaker: undefined })),
    };
  };

  beforeAll(async () => {
    env = await freshEnvironment('cfgfile');
    dir = mkdtempSync(join(tmpdir(), 'router-config-'));
    file = join(dir, 'router.config.yaml');
    process.env.CFG_E2E_TOKEN = TOKEN_A;
  });

  afterAll(async () => {
    await svc?.close();
    delete process.env.CFG_E2E_TOKEN;
    rmSync(dir, { recursive: true, force: true });
    await env?.drop();
  });

  it('applies at api start; again at start and by config:apply it changes nothing; things outside the file are left alone', async () => {
    writeFileSync(file, yaml(0.3));
    svc = await startService(env, 0, { ROUTER_CONFIG: file });
    const admin = client(svc.url);
    const policy = (await admin.get('/admin/policies/cfg')).body;
    expect(policy).toMatchObject({
      algorithm: 'linucb',
      arms: ['small', 'large'],
      objective: { energy: 0.3 },
      budget: { costUsdPerRequest: 0.01 },
      version: 1,
    });
    expect((await admin.get('/admin/policies/cfg/audit')).body.audit[0]).toMatchObject({ action: 'create', actor: 'config-file' });
    // The key works with the token from the environment, within its scope and policies.
    const app = new RouterClient({ baseUrl: svc.url, apiKey: TOKEN_A });
    expect((await app.route({ policy: 'cfg', input: 'hello' })).policy).toBe('cfg');
    await expect(app.listModels()).rejects.toMatchObject({ status: 403 });
    expect((await admin.get('/admin/keys')).body.keys).toEqual([
      expect.objectContaining({
        id: expect.stringMatching(/^cfg:app:[0-9a-f]{8}$/),
        name: 'app',
        scope: 'route',
        policies: ['cfg'],
        limits: { requestsPerMinute: 1000 },
      }),
    ]);
    // Something made through the api, not in the file.
    expect((await admin.put('/admin/models/extra', {})).status).toBe(200);

    const before = await snapshot(admin);
    const again = await cli(file);
    expect(again.code).toBe(0);
    expect(again.out).toContain('= small unchanged');
    expect(again.out).toContain('= cfg unchanged');
    expect(again.out).toContain('= app unchanged');
    expect(again.out).toMatch(/models: extra/);
    expect(again.out).not.toContain(TOKEN_A);
    expect(await snapshot(admin)).toEqual(before);

    await svc.close();
    svc = await startService(env, 0, { ROUTER_CONFIG: file });
    expect(await snapshot(client(svc.url))).toEqual(before);
    expect((await client(svc.url).get('/admin/models/extra')).status).toBe(200);
  });

  it('a changed file: the dry run prints field-level changes and applies nothing; the apply makes one audited version, rotates the key', async () => {
    const admin = client(svc!.url);
    writeFileSync(file, yaml(0.5));
    process.env.CFG_E2E_TOKEN = TOKEN_B;
    const before = await snapshot(admin);
    const dry = await cli(file, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('dry run: nothing applied');
    expect(dry.out).toContain('~ cfg changed');
    expect(dry.out).toContain('objective.energy: 0.3 -> 0.5');
    expect(dry.out).toMatch(/~ app changed \(replaces cfg:app:[0-9a-f]{8}\)/);
    expect(await snapshot(admin)).toEqual(before);

    // Two applies at once (two replicas starting together): the lock orders them, the second finds nothing to do.
    const [a, b] = await Promise.all([cli(file), cli(file)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect([a.out, b.out].filter((o) => o.includes('~ cfg changed'))).toHaveLength(1);
    const after = await snapshot(admin);
    expect(after).toMatchObject({ version: before.version + 1, epoch: before.epoch, audit: before.audit + 1 });
    const audit = (await admin.get('/admin/policies/cfg/audit')).body.audit[0];
    expect(audit).toMatchObject({ action: 'replace', actor: 'config-file', before: { objective: { energy: 0.3 } }, after: { objective: { energy: 0.5 } } });
    // The old token is refused at once, the new one works.
    await expect(new RouterClient({ baseUrl: svc!.url, apiKey: TOKEN_A }).route({ policy: 'cfg', input: 'hi' })).rejects.toMatchObject({ status: 401 });
    expect((await new RouterClient({ baseUrl: svc!.url, apiKey: TOKEN_B }).route({ policy: 'cfg', input: 'hi' })).policy).toBe('cfg');
    const keys = (await admin.get('/admin/keys')).body.keys;
    expect(keys.filter((k: any) => k.id.startsWith('cfg:app:') && k.revokedAt === null)).toHaveLength(1);
  });

  it('changed limits alone are set on the key, which keeps its id and token', async () => {
    const admin = client(svc!.url);
    const live = async () => (await admin.get('/admin/keys')).body.keys.filter((k: any) => k.id.startsWith('cfg:app:') && k.revokedAt === null);
    const [key] = await live();
    writeFileSync(file, yaml(0.5, '', 50));
    const r = await cli(file);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`~ app changed (limits of ${key.id})`);
    expect(r.out).toContain('limits.requestsPerMinute: 1000 -> 50');
    expect(await live()).toEqual([{ ...key, limits: { requestsPerMinute: 50 } }]);
    expect(await new RouterClient({ baseUrl: svc!.url, apiKey: TOKEN_B }).route({ policy: 'cfg', input: 'hi' })).toMatchObject({ policy: 'cfg' });
    expect((await cli(file)).out).toContain('= app unchanged');
    // Machine-readable, and the usage on bad arguments.
    const json = JSON.parse((await cli(file, '--dry-run', '--json')).out);
    expect(json).toMatchObject({ dryRun: true, problems: [], leftAlone: { models: ['extra'] } });
    expect(json.keys).toEqual([expect.objectContaining({ id: 'app', action: 'unchanged', desired: expect.objectContaining({ tokenEnv: 'CFG_E2E_TOKEN' }) })]);
    expect(JSON.stringify(json)).not.toContain(TOKEN_B);
    expect(await cli(file, '--force')).toEqual({ code: 2, out: expect.stringContaining('usage: npm run config:apply') });
  });

  it('an invalid file changes nothing: config:apply lists every problem, and the api does not start', async () => {
    const admin = client(svc!.url);
    const before = await snapshot(admin);
    writeFileSync(file, yaml(-1, '  bad:\n    name: bad\n    scope: route\n    tokenEnv: CFG_E2E_UNSET\n', 50));
    const r = await cli(file);
    expect(r.code).toBe(1);
    expect(r.out).toContain('policies.cfg.objective.energy');
    writeFileSync(file, yaml(0.5, '  bad:\n    name: bad\n    scope: route\n    tokenEnv: CFG_E2E_UNSET\n', 50));
    const unset = await cli(file);
    expect(unset.code).toBe(1);
    expect(unset.out).toContain('keys.bad.tokenEnv: CFG_E2E_UNSET is not set');
    const api = await createApi(
      apiEnvSchema.parse({
        DATABASE_URL: env.databaseUrl,
        REDIS_URL,
        REDIS_PREFIX: env.prefix,
        ADMIN_API_KEY: ADMIN_KEY,
        LOG_LEVEL: 'fatal',
        ROUTER_CONFIG: file,
      }),
    );
    await expect(api.listen(0, '127.0.0.1')).rejects.toThrow(/keys\.bad\.tokenEnv: CFG_E2E_UNSET is not set/);
    await api.close();
    expect(await snapshot(admin)).toEqual(before);
    // A file's key is revoked like any other (its id, colons included, is a valid path id).
    const [live] = (await admin.get('/admin/keys')).body.keys.filter((k: any) => k.revokedAt === null);
    expect((await admin.del(`/admin/keys/${live.id}`)).status).toBe(204);
    await expect(new RouterClient({ baseUrl: svc!.url, apiKey: TOKEN_B }).route({ policy: 'cfg', input: 'hi' })).rejects.toMatchObject({ status: 401 });
  });
});
