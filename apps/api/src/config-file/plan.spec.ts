import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ESCALATION_SUFFIX, type Model, type Policy, routerConfigSchema } from '@app/contracts';
import { readConfigFile } from './config-file.service.js';
import { configKeyId, fieldChanges, formatPlan, handleOfKeyId, planConfig, type PlanOptions, type StoredKey } from './plan.js';

const TOKEN = 'tok-frontend-0123456789';
const options = (o: Partial<PlanOptions> = {}): PlanOptions => ({
  env: { ROUTER_KEY_FRONTEND: TOKEN },
  adminKey: 'admin-key-0123456789',
  upstreamKeyEnvPrefix: 'UPSTREAM_',
  tokenHolders: new Map(),
  ...o,
});

const file = (raw: unknown) => routerConfigSchema.parse(raw);
const FILE = {
  models: { small: { baseUrl: 'http://small:8000/v1', pricing: { inputPerMTok: 0.05, outputPerMTok: 0.1 } }, large: {} },
  policies: { default: { algorithm: 'linucb', arms: ['small', 'large'], objective: { quality: 1, energy: 0.3 } } },
  keys: { frontend: { name: 'frontend', scope: 'route', policies: ['default'], limits: { requestsPerMinute: 600 }, tokenEnv: 'ROUTER_KEY_FRONTEND' } },
};

/** The state a service holds after applying FILE: what the repositories would list. */
function applied(): { models: Model[]; policies: Policy[]; keys: StoredKey[] } {
  const f = file(FILE);
  return {
    models: Object.entries(f.models).map(([id, c]) => ({ id, ...c })),
    // As the service stores it: the featurizer version added, name/version/epoch beside the config.
    policies: Object.entries(f.policies).map(([name, c]) => ({
      ...c,
      features: { ...c.features, version: 2 },
      name,
      version: 3,
      epoch: 1,
      updatedAt: '2026-01-01T00:00:00.000Z',
    })),
    keys: [
      {
        id: configKeyId('frontend', '0a1b2c3d'),
        name: 'frontend',
        scope: 'route',
        policies: ['default'],
        limits: { requestsPerMinute: 600 },
        revokedAt: null,
      } as StoredKey,
    ],
  };
}
const holders = (id: string | null) => new Map([['frontend', id ? { id, revoked: false } : null]]);

describe('fieldChanges', () => {
  it('reports the deepest differing fields with before and after, sorted; arrays whole', () => {
    expect(fieldChanges({ a: 1, p: { x: 1, y: 2 }, arms: ['a'] }, { a: 1, p: { x: 3, y: 2, z: 4 }, arms: ['a', 'b'] })).toEqual([
      { path: 'arms', before: ['a'], after: ['a', 'b'] },
      { path: 'p.x', before: 1, after: 3 },
      { path: 'p.z', before: undefined, after: 4 },
    ]);
  });

  it('treats an absent field and an undefined one alike, and lists the leaves of an added object', () => {
    expect(fieldChanges({ a: 1, b: undefined }, { a: 1 })).toEqual([]);
    expect(fieldChanges({}, { budget: { costUsdPerRequest: 0.01 } })).toEqual([{ path: 'budget.costUsdPerRequest', before: undefined, after: 0.01 }]);
    expect(fieldChanges({ budget: { costUsdPerRequest: 0.01 } }, {})).toEqual([{ path: 'budget.costUsdPerRequest', before: 0.01, after: undefined }]);
  });
});

describe('planConfig', () => {
  it('creates everything on an empty service and lists the created fields', () => {
    const plan = planConfig(file(FILE), { models: [], policies: [], keys: [] }, options());
    expect(plan.problems).toEqual([]);
    expect([...plan.models, ...plan.policies, ...plan.keys].map((e) => `${e.id}:${e.action}`)).toEqual([
      'small:create',
      'large:create',
      'default:create',
      'frontend:create',
    ]);
    expect(plan.models[0].changes).toContainEqual({ path: 'pricing.inputPerMTok', before: undefined, after: 0.05 });
    expect(plan.keys[0].replaces).toBeNull();
  });

  it('finds nothing to do against the state the same file produced (featurizer version and null budget ignored)', () => {
    const state = applied();
    state.policies[0].budget = null; // PUT may store null, the file omits it: both are "no budget"
    const plan = planConfig(file(FILE), state, options({ tokenHolders: holders(state.keys[0].id) }));
    expect(plan.problems).toEqual([]);
    expect([...plan.models, ...plan.policies, ...plan.keys].every((e) => e.action === 'unchanged' && e.changes.length === 0)).toBe(true);
    expect(formatPlan(plan)).toContain('= default unchanged');
  });

  it('reports field-level changes before -> after', () => {
    const state = applied();
    const changed = structuredClone(FILE);
    changed.policies.default.objective.energy = 0.5;
    changed.models.small.pricing.inputPerMTok = 0.06;
    const plan = planConfig(file(changed), state, options({ tokenHolders: holders(state.keys[0].id) }));
    expect(plan.policies[0]).toMatchObject({ action: 'change', changes: [{ path: 'objective.energy', before: 0.3, after: 0.5 }] });
    expect(plan.models[0]).toMatchObject({ action: 'change', changes: [{ path: 'pricing.inputPerMTok', before: 0.05, after: 0.06 }] });
    expect(plan.models[1].action).toBe('unchanged');
    expect(formatPlan(plan)).toContain('objective.energy: 0.3 -> 0.5');
  });

  it('replaces a key whose token or fields changed, never printing the token', () => {
    const state = applied();
    const rotated = planConfig(file(FILE), state, options({ tokenHolders: holders(null) }));
    expect(rotated.keys[0]).toMatchObject({ action: 'change', replaces: state.keys[0].id, limitsOf: null, changes: [{ path: 'token' }] });
    const scoped = structuredClone(FILE);
    scoped.keys.frontend.scope = 'telemetry';
    const rescoped = planConfig(file(scoped), state, options({ tokenHolders: holders(state.keys[0].id) }));
    expect(rescoped.keys[0]).toMatchObject({ action: 'change', replaces: state.keys[0].id, changes: [{ path: 'scope', before: 'route', after: 'telemetry' }] });
    expect(formatPlan(rotated)).not.toContain(TOKEN);
    const limited = structuredClone(FILE) as any;
    limited.keys.frontend.limits = { requestsPerMinute: 600, usdPerDay: 5 };
    const relimited = planConfig(file(limited), state, options({ tokenHolders: holders(state.keys[0].id) }));
    expect(relimited.keys[0]).toMatchObject({
      action: 'change',
      replaces: null,
      limitsOf: state.keys[0].id,
      changes: [{ path: 'limits.usdPerDay', before: undefined, after: 5 }],
    });
    expect(formatPlan(relimited)).toContain(`~ frontend changed (limits of ${state.keys[0].id})`);
    // Limits and the token together: a replacement.
    expect(planConfig(file(limited), state, options({ tokenHolders: holders(null) })).keys[0]).toMatchObject({ replaces: state.keys[0].id, limitsOf: null });
  });

  it('lists what the file does not name and leaves it alone', () => {
    const state = applied();
    state.models.push({ id: 'other', enabled: true }, { id: 'constructor', enabled: true }); // also a name every object's prototype has
    state.keys.push({ id: 'key_0123456789abcdef', name: 'ops', revokedAt: null }, { id: 'key_fedcba9876543210', name: 'old', revokedAt: new Date() });
    // A cascade's escalation policy is its router's, not one a file names: not listed.
    state.policies.push({ ...state.policies[0], name: `${state.policies[0].name}${ESCALATION_SUFFIX}` });
    const plan = planConfig(file({ models: { large: {} } }), state, options());
    expect(plan.leftAlone).toEqual({
      models: ['constructor', 'other', 'small'],
      policies: ['default'],
      keys: [`${state.keys[0].id} (frontend)`, 'key_0123456789abcdef (ops)'],
    });
  });

  it('collects every problem: unknown arms, an embeddings model without baseUrl, apiKeyEnv outside the prefix, tokens', () => {
    const bad = file({
      models: { small: { apiKeyEnv: 'DATABASE_URL' }, emb: {} },
      policies: {
        p: { algorithm: 'linucb', arms: ['small', 'ghost'] },
        e: { algorithm: 'linucb', arms: ['small'], features: { source: 'embeddings', dim: 8, model: 'emb' } },
        [`x${ESCALATION_SUFFIX}`]: { algorithm: 'linucb', arms: ['small'] },
        [`${'c'.repeat(120)}`]: { algorithm: 'linucb', arms: ['small', 'emb'], cascade: { maxSteps: 2 } },
      },
      keys: {
        owner: { name: 'admin', scope: 'route', tokenEnv: 'OWNER' },
        unset: { name: 'a', scope: 'route', tokenEnv: 'NOT_SET' },
        short: { name: 'b', scope: 'route', tokenEnv: 'SHORT' },
        admin: { name: 'c', scope: 'admin', tokenEnv: 'ADMIN' },
        taken: { name: 'd', scope: 'route', tokenEnv: 'TAKEN' },
        twin: { name: 'e', scope: 'route', tokenEnv: 'TWIN' },
      },
    });
    const plan = planConfig(
      bad,
      { models: [], policies: [], keys: [] },
      options({
        env: {
          OWNER: 'owner-token-0123456789',
          SHORT: 'abc',
          ADMIN: 'admin-key-0123456789',
          TAKEN: 'someone-elses-token-0123',
          TWIN: 'someone-elses-token-0123',
        },
        tokenHolders: new Map([['taken', { id: 'key_0123456789abcdef', revoked: true }]]),
      }),
    );
    expect(plan.problems.map((p) => p.path)).toEqual([
      'models.small.apiKeyEnv',
      'policies.p.arms.1',
      'policies.e.features.model',
      // What PUT /admin/policies and POST /admin/keys refuse beyond their schemas, found before anything is applied.
      `policies.x${ESCALATION_SUFFIX}`,
      `policies.${'c'.repeat(120)}`,
      'keys.owner.name',
      'keys.unset.tokenEnv',
      'keys.short.tokenEnv',
      'keys.admin.tokenEnv',
      'keys.taken.tokenEnv',
      'keys.twin.tokenEnv',
    ]);
    expect(plan.problems.at(-2)!.message).toContain('revoked key key_0123456789abcdef');
    expect(plan.problems.at(-1)!.message).toContain('the same token as keys.taken');
    expect(formatPlan(plan)).toContain('problems (nothing applied):');
  });
});

describe('config key ids', () => {
  it('carry the handle, also one with colons, and never match generated ids', () => {
    expect(handleOfKeyId(configKeyId('a:b', '0123abcd'))).toBe('a:b');
    expect(handleOfKeyId('key_0123456789abcdef')).toBeNull();
    expect(handleOfKeyId('cfg:x:not-hex!')).toBeNull();
  });
});

describe('routerConfigSchema', () => {
  it('validates with the admin API schemas, naming the path', () => {
    const r = routerConfigSchema.safeParse({
      models: { m: { pricing: { inputPerMTok: -1, outputPerMTok: 0 } } },
      policies: { p: { algorithm: 'nope', arms: [] } },
      extra: 1,
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['models.m.pricing.inputPerMTok', 'policies.p.algorithm', 'policies.p.arms', '']));
  });

  it('accepts the example file of examples/', async () => {
    const parsed = await readConfigFile(new URL('../../../../examples/router.config.yaml', import.meta.url).pathname);
    expect(Object.keys(parsed.models)).toEqual(['small', 'large']);
    expect(parsed.keys.frontend).toMatchObject({ scope: 'route', limits: { requestsPerMinute: 600 }, tokenEnv: 'ROUTER_KEY_FRONTEND' });
  });

  it('refuses a key that would reach a prototype, naming where, instead of dropping it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    try {
      for (const [text, at] of [
        ['models:\n  __proto__: { baseUrl: "http://x/v1" }\n  ok: {}\n', 'models.__proto__'],
        ['policies:\n  p:\n    algorithm: linucb\n    arms: [ok]\n    params: { constructor: { prototype: { alpha: 9 } } }\n', 'policies.p.params.constructor'],
      ]) {
        writeFileSync(join(dir, 'f.yaml'), text);
        await expect(readConfigFile(join(dir, 'f.yaml'))).rejects.toMatchObject({ problems: [{ path: at, message: expect.stringContaining('__proto__') }] });
      }
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('refuses a key without tokenEnv or with an unknown field', () => {
    expect(routerConfigSchema.safeParse({ keys: { k: { name: 'k', scope: 'route' } } }).success).toBe(false);
    expect(routerConfigSchema.safeParse({ keys: { k: { name: 'k', scope: 'route', tokenEnv: 'T', secret: 'x' } } }).success).toBe(false);
  });
});
