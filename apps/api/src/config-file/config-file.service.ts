import { readFile } from 'node:fs/promises';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { type Principal, type RouterConfig, routerConfigSchema } from '@app/contracts';
import { type FieldError } from '@app/errors';
import { CONFIG, Logger } from '@app/infra';
import { createSql, KeysRepository, ModelsRepository, PoliciesRepository } from '@app/persistence';
import { KeysService } from '../admin/keys.service.js';
import { ModelsService } from '../admin/models.service.js';
import { PoliciesService } from '../admin/policies.service.js';
import { type ApiEnv } from '../config.js';
import { issuesToErrors } from '../validation.js';
import { type ConfigPlan, planConfig, planSummary, type TokenHolder } from './plan.js';

/** The audit trail's actor of every change a configuration file makes. */
export const CONFIG_FILE_ACTOR: Principal = { keyId: 'config-file', owner: 'config-file', scope: 'admin', policies: null };
/** Session advisory lock held while a file is applied: replicas starting together apply one after the other. */
const APPLY_LOCK = 724042;

/** A configuration file that cannot be read, parsed, validated or applied; `problems` name every field. */
export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: FieldError[],
  ) {
    super(`configuration file ${file}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigFileError';
  }
}

/**
 * Where a parsed file holds a key that would reach an object's prototype (`__proto__`, or `constructor` holding
 * `prototype`), which validation would otherwise drop without a word; null when none does. As the api refuses in a
 * JSON body.
 */
export function prototypeKeyPath(v: unknown, path = ''): string | null {
  if (typeof v !== 'object' || v === null) return null;
  for (const k of Object.keys(v)) {
    const at = path ? `${path}.${k}` : k;
    const child = (v as Record<string, unknown>)[k];
    if (k === '__proto__' || (k === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype'))) return at;
    const inner = prototypeKeyPath(child, at);
    if (inner !== null) return inner;
  }
  return null;
}

/** Reads a YAML (or JSON, which YAML includes) configuration file and validates it with the admin API's schemas. */
export async function readConfigFile(path: string): Promise<RouterConfig> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ConfigFileError(path, [{ path: '(file)', message: e instanceof Error ? e.message : String(e) }]);
  }
  const proto = prototypeKeyPath(raw);
  if (proto !== null)
    throw new ConfigFileError(path, [{ path: proto, message: 'a key named __proto__, or a constructor key holding prototype, is not accepted' }]);
  const r = routerConfigSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigFileError(path, issuesToErrors(r.error.issues));
  return r.data;
}

export interface ApplyOptions {
  /** Only compute the plan. */
  dryRun?: boolean;
  /** Where the keys' tokens are read from. */
  secrets?: Readonly<Record<string, string | undefined>>;
}

/**
 * Configuration as code: a file of models, policies and keys made true through the services the admin endpoints
 * use (same validation, audit trail and versioning; the actor is `config-file`). Only what differs is written,
 * so applying a file twice changes nothing the second time; what the file does not name is left alone. Applied
 * at start when ROUTER_CONFIG names a file (before the api listens; a file that cannot be applied stops it).
 */
@Injectable()
export class ConfigFileService implements OnApplicationBootstrap {
  private readonly log: Logger;

  constructor(
    private readonly models: ModelsService,
    private readonly policies: PoliciesService,
    private readonly keys: KeysService,
    private readonly storedModels: ModelsRepository,
    private readonly storedPolicies: PoliciesRepository,
    private readonly storedKeys: KeysRepository,
    @Inject(CONFIG) private readonly env: ApiEnv,
    @Inject(Logger) logger: Logger,
  ) {
    this.log = logger.child('config-file');
  }

  async onApplicationBootstrap(): Promise<void> {
    const file = this.env.ROUTER_CONFIG;
    if (!file) return;
    const plan = await this.applyFile(file);
    this.log.info('configuration file applied', { file, ...planSummary(plan), leftAlone: plan.leftAlone });
  }

  async applyFile(file: string, o: ApplyOptions = {}): Promise<ConfigPlan> {
    const config = await readConfigFile(file);
    const plan = await this.apply(config, o);
    if (plan.problems.length > 0 && !o.dryRun) throw new ConfigFileError(file, plan.problems);
    return plan;
  }

  /** What applying `config` would change now (and the problems that prevent it). */
  async plan(config: RouterConfig, secrets: Readonly<Record<string, string | undefined>> = process.env): Promise<ConfigPlan> {
    const [models, policies, keys] = await Promise.all([this.storedModels.list(), this.storedPolicies.list(), this.storedKeys.list()]);
    const tokenHolders = new Map<string, TokenHolder>();
    for (const [handle, k] of Object.entries(config.keys)) {
      const token = secrets[k.tokenEnv];
      if (token) tokenHolders.set(handle, await this.storedKeys.holderOf(token));
    }
    return planConfig(
      config,
      { models, policies, keys },
      { env: secrets, adminKey: this.env.ADMIN_API_KEY, upstreamKeyEnvPrefix: this.env.UPSTREAM_KEY_ENV_PREFIX, tokenHolders },
    );
  }

  /**
   * Plans under the apply lock and, unless `dryRun` or the plan has problems, applies every entry that is not
   * unchanged: models, then policies (their arms must exist), then keys. Returns the plan it applied.
   */
  async apply(config: RouterConfig, o: ApplyOptions = {}): Promise<ConfigPlan> {
    const secrets = o.secrets ?? process.env;
    if (o.dryRun) return this.plan(config, secrets);
    const lock = createSql(this.env.DATABASE_URL, 1);
    try {
      await lock`select pg_advisory_lock(${APPLY_LOCK})`;
      const plan = await this.plan(config, secrets);
      if (plan.problems.length > 0) return plan;
      for (const e of plan.models) if (e.action !== 'unchanged') await this.models.put(e.id, e.desired, CONFIG_FILE_ACTOR);
      for (const e of plan.policies) if (e.action !== 'unchanged') await this.policies.put(e.id, e.desired, CONFIG_FILE_ACTOR);
      for (const e of plan.keys) {
        const { tokenEnv, ...fields } = e.desired;
        if (e.limitsOf) await this.keys.update(e.limitsOf, { limits: fields.limits ?? null });
        else if (e.action !== 'unchanged') await this.keys.importKey(e.id, fields, secrets[tokenEnv]!, e.replaces);
      }
      return plan;
    } finally {
      await lock`select pg_advisory_unlock(${APPLY_LOCK})`.catch(() => undefined);
      await lock.end();
    }
  }
}
