import {
  type ConfigKey,
  createKeySchema,
  isEscalationPolicyName,
  type Model,
  type ModelConfig,
  type Policy,
  type PolicyConfig,
  type RouterConfig,
} from '@app/contracts';
import { DomainError, type FieldError } from '@app/errors';
import { assertEmbeddingsModel } from '../admin/embeddings-model.js';
import { assertOwnerName } from '../admin/key-owner.js';
import { assertRouterFits } from '../admin/router-name.js';
import { keyEnvRefusal } from '../proxy/upstream-key.js';

/** One field that differs: `path` is dotted (`pricing.inputPerMTok`); `undefined` means absent. */
export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

export type PlanAction = 'create' | 'change' | 'unchanged';

export interface PlanEntry<T> {
  id: string;
  action: PlanAction;
  changes: FieldChange[];
  desired: T;
}

export interface KeyPlanEntry extends PlanEntry<ConfigKey> {
  /** The stored key this one replaces (revoked when the new one is created); null for a new or kept key. */
  replaces: string | null;
  /** Only the limits changed (same token): they are set on the stored key, which keeps its id (as PATCH /admin/keys/{id}). */
  limitsOf: string | null;
}

export interface ConfigPlan {
  models: PlanEntry<ModelConfig>[];
  policies: PlanEntry<PolicyConfig>[];
  keys: KeyPlanEntry[];
  /** What exists but the file does not name: left as it is. Keys as `id (owner)`. */
  leftAlone: { models: string[]; policies: string[]; keys: string[] };
  /** Why the file cannot be applied (every problem found), paths rooted at the file. */
  problems: FieldError[];
}

/** A stored key as the planner sees it (the columns POST /admin/keys sets, by the same names). */
export interface StoredKey {
  id: string;
  name: string;
  revokedAt: Date | null;
}

/** Who holds a token already: a key id, and whether that key is revoked. */
export type TokenHolder = { id: string; revoked: boolean } | null;

export interface CurrentState {
  models: Model[];
  policies: Policy[];
  /** Every key (revoked ones may be included: they are skipped). */
  keys: StoredKey[];
}

export interface PlanOptions {
  /** Environment the keys' tokens are read from. */
  env: Readonly<Record<string, string | undefined>>;
  /** The bootstrap admin key: a file key may not reuse it. */
  adminKey: string;
  /** UPSTREAM_KEY_ENV_PREFIX: a model's apiKeyEnv must start with it. */
  upstreamKeyEnvPrefix: string;
  /** The key holding a token now, for each handle of the file whose token is set. */
  tokenHolders: ReadonlyMap<string, TokenHolder>;
}

/** Shortest token a file key may have (as ADMIN_API_KEY). */
export const MIN_TOKEN_LENGTH = 16;

/** Stored id of a key made from a configuration file: the file's handle and a random suffix (new on every replacement). */
export const configKeyId = (handle: string, suffix: string) => `cfg:${handle}:${suffix}`;
const CONFIG_KEY_ID = /^cfg:(.+):[0-9a-f]{8}$/;
/** The file handle a stored key id was made for, or null for a key created otherwise. */
export const handleOfKeyId = (id: string): string | null => CONFIG_KEY_ID.exec(id)?.[1] ?? null;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Structural equality of JSON-like values; an absent field equals an undefined one. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => sameValue(a[k], b[k]));
  }
  return false;
}

/**
 * The fields that differ between two JSON-like values, at the deepest object level (arrays are compared whole):
 * `{pricing: {inputPerMTok: 1}}` against `{pricing: {inputPerMTok: 2}}` is one change at `pricing.inputPerMTok`.
 * Sorted by path.
 */
export function fieldChanges(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => fieldChanges(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (isPlainObject(after) && before === undefined) return fieldChanges({}, after, path);
  if (isPlainObject(before) && after === undefined) return fieldChanges(before, {}, path);
  return sameValue(before, after) ? [] : [{ path: path || '(root)', before, after }];
}

/**
 * A policy's configuration as compared: the fields PUT /admin/policies takes, without those the service sets
 * (the featurizer version) and with "no budget" spelled one way (absent; PUT may store null, PATCH drops it).
 */
export function comparablePolicy(p: PolicyConfig): PolicyConfig {
  const { features, budget, ...rest } = p as PolicyConfig & Partial<Policy>;
  const { version: _v, ...f } = features;
  const out: Record<string, unknown> = {
    algorithm: rest.algorithm,
    arms: rest.arms,
    params: rest.params,
    objective: rest.objective,
    scales: rest.scales,
    features: f,
    feedback: rest.feedback,
  };
  if (budget) out.budget = budget;
  return JSON.parse(JSON.stringify(out)) as PolicyConfig;
}

const comparableModel = (m: ModelConfig | Model): ModelConfig => {
  const { id: _id, ...config } = m as Model;
  return JSON.parse(JSON.stringify(config)) as ModelConfig;
};

/** The fields of a key the file sets, as stored (an unset optional field is null in Postgres). */
function keyFields(k: object): Record<string, unknown> {
  return Object.fromEntries(Object.keys(createKeySchema.shape).map((f) => [f, (k as Record<string, unknown>)[f] ?? null]));
}

/** `before` and `after` in the form compared; `desired` as the file gives it (what is applied). */
/**
 * What an admin endpoint's own check (one that throws a DomainError naming fields) refuses of a file's entry, as
 * problems rooted at `prefix`; `name` (a policy's name, not a field of its entry) is named as the entry itself when
 * `nameIsEntry`.
 */
function refusals(prefix: string, check: () => void, nameIsEntry = false): FieldError[] {
  try {
    check();
    return [];
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return e.errors.map((f) => ({ path: nameIsEntry && f.path === 'name' ? prefix : `${prefix}.${f.path}`, message: f.message }));
  }
}

const entry = <T>(id: string, before: unknown, after: unknown, desired: T): PlanEntry<T> => {
  if (before === undefined) return { id, action: 'create', changes: fieldChanges(undefined, after), desired };
  const changes = fieldChanges(before, after);
  return { id, action: changes.length > 0 ? 'change' : 'unchanged', changes, desired };
};

/**
 * What applying `file` to `current` would do, and every reason it cannot (`problems`). Pure: the caller reads the
 * current state and the token holders, and applies the entries that are not `unchanged`.
 */
export function planConfig(file: RouterConfig, current: CurrentState, o: PlanOptions): ConfigPlan {
  const problems: FieldError[] = [];
  const storedModels = new Map(current.models.map((m) => [m.id, m]));
  const storedPolicies = new Map(current.policies.map((p) => [p.name, p]));

  const models = Object.entries(file.models).map(([id, config]) => {
    const refusal = config.apiKeyEnv === undefined ? null : keyEnvRefusal(config.apiKeyEnv, o.upstreamKeyEnvPrefix);
    if (refusal) problems.push({ path: `models.${id}.apiKeyEnv`, message: refusal });
    const stored = storedModels.get(id);
    return entry(id, stored && comparableModel(stored), comparableModel(config), config);
  });

  // The registry as it will be: stored models, replaced by the file's.
  const registry = new Map<string, Model>(storedModels);
  for (const [id, config] of Object.entries(file.models)) registry.set(id, { id, ...config });
  const policies = Object.entries(file.policies).map(([name, config]) => {
    config.arms.forEach((arm, i) => {
      if (!registry.has(arm)) problems.push({ path: `policies.${name}.arms.${i}`, message: `${arm} is neither registered nor a model of the file` });
    });
    problems.push(...refusals(`policies.${name}`, () => assertRouterFits(name, config), true));
    problems.push(...refusals(`policies.${name}`, () => assertEmbeddingsModel(config.features, [...registry.values()])));
    const stored = storedPolicies.get(name);
    return entry(name, stored && comparablePolicy(stored), comparablePolicy(config), config);
  });

  const active = current.keys.filter((k) => k.revokedAt === null);
  const byHandle = new Map<string, StoredKey>();
  for (const k of active) {
    const h = handleOfKeyId(k.id);
    if (h !== null && Object.hasOwn(file.keys, h)) byHandle.set(h, k); // the list is oldest first: the newest wins
  }
  const tokenOwners = new Map<string, string>();
  const keys = Object.entries(file.keys).map(([handle, k]): KeyPlanEntry => {
    problems.push(...refusals(`keys.${handle}`, () => assertOwnerName(k)));
    const path = `keys.${handle}.tokenEnv`;
    const token = o.env[k.tokenEnv];
    const sharedWith = token ? tokenOwners.get(token) : undefined;
    if (token && !sharedWith) tokenOwners.set(token, handle);
    const holder = o.tokenHolders.get(handle) ?? null;
    const stored = byHandle.get(handle);
    if (!token) problems.push({ path, message: `${k.tokenEnv} is not set` });
    else if (token.length < MIN_TOKEN_LENGTH) problems.push({ path, message: `${k.tokenEnv} must hold at least ${MIN_TOKEN_LENGTH} characters` });
    else if (sharedWith) problems.push({ path, message: `${k.tokenEnv} holds the same token as keys.${sharedWith}: each key needs its own` });
    else if (token === o.adminKey) problems.push({ path, message: `${k.tokenEnv} holds the bootstrap admin key (ADMIN_API_KEY): give the key its own token` });
    else if (holder && holder.id !== stored?.id)
      problems.push({ path, message: `${k.tokenEnv} holds the token of ${holder.revoked ? 'revoked ' : ''}key ${holder.id}: give a new token` });
    const { tokenEnv: _t, ...fields } = k;
    if (!stored) return { ...entry(handle, undefined, keyFields(fields), k), replaces: null, limitsOf: null };
    const changes = fieldChanges(keyFields(stored), keyFields(fields));
    if (!holder || holder.id !== stored.id) changes.push({ path: 'token', before: `(token of ${stored.id})`, after: `(new token from ${k.tokenEnv})` });
    const limitsOnly = changes.length > 0 && changes.every((c) => c.path === 'limits' || c.path.startsWith('limits.'));
    return {
      id: handle,
      action: changes.length > 0 ? 'change' : 'unchanged',
      changes,
      desired: k,
      replaces: changes.length > 0 && !limitsOnly ? stored.id : null,
      limitsOf: limitsOnly ? stored.id : null,
    };
  });

  const keyIds = new Set([...byHandle.values()].map((k) => k.id));
  return {
    models,
    policies,
    keys,
    leftAlone: {
      models: [...storedModels.keys()].filter((id) => !Object.hasOwn(file.models, id)).sort(),
      // A cascade's escalation policy belongs to its router (kept with it): not a policy a file could name.
      policies: [...storedPolicies.keys()].filter((n) => !Object.hasOwn(file.policies, n) && !isEscalationPolicyName(n)).sort(),
      keys: active.filter((k) => !keyIds.has(k.id)).map((k) => `${k.id} (${k.name})`),
    },
    problems,
  };
}

const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));

/** The plan as text, one line per entry and one indented line per changed field. */
export function formatPlan(plan: ConfigPlan): string {
  const lines: string[] = [];
  const mark = { create: '+', change: '~', unchanged: '=' } as const;
  const section = (title: string, entries: PlanEntry<unknown>[]) => {
    lines.push(`${title}:${entries.length === 0 ? ' (none in the file)' : ''}`);
    for (const e of entries) {
      const { replaces, limitsOf } = e as Partial<KeyPlanEntry>;
      const how = replaces ? ` (replaces ${replaces})` : limitsOf ? ` (limits of ${limitsOf})` : '';
      lines.push(`  ${mark[e.action]} ${e.id} ${e.action === 'create' ? 'created' : e.action === 'change' ? 'changed' : 'unchanged'}${how}`);
      if (e.action === 'change') for (const c of e.changes) lines.push(`      ${c.path}: ${show(c.before)} -> ${show(c.after)}`);
      if (e.action === 'create') for (const c of e.changes) lines.push(`      ${c.path}: ${show(c.after)}`);
    }
  };
  section('models', plan.models);
  section('policies', plan.policies);
  section('keys', plan.keys);
  const alone = Object.entries(plan.leftAlone).filter(([, ids]) => ids.length > 0);
  lines.push(`not in the file (left alone):${alone.length === 0 ? ' nothing' : ''}`);
  for (const [kind, ids] of alone) lines.push(`  ${kind}: ${ids.join(', ')}`);
  if (plan.problems.length > 0) {
    lines.push('problems (nothing applied):');
    for (const p of plan.problems) lines.push(`  ${p.path}: ${p.message}`);
  }
  return lines.join('\n');
}

/** Counts per action over every entry. */
export function planSummary(plan: ConfigPlan): Record<PlanAction, number> {
  const all = [...plan.models, ...plan.policies, ...plan.keys];
  return {
    create: all.filter((e) => e.action === 'create').length,
    change: all.filter((e) => e.action === 'change').length,
    unchanged: all.filter((e) => e.action === 'unchanged').length,
  };
}
