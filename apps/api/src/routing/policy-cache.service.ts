import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Model, type Policy } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG, Logger } from '@app/infra';
import { armPriors, buildRuntime, objectiveScales, type PolicyRuntime } from '@app/learning';
import { type ChannelSubscription, ModelEnergyStore, PolicyStateStore, RegistryStore } from '@app/store';
import { type ApiEnv } from '../config.js';
import { StateRepair } from './state-repair.service.js';

/**
 * This replica's in-memory copy of every policy, compiled for decisions. A poll every REFRESH_INTERVAL_MS
 * reads the registry and each policy's state seq from Redis (one round trip) and recompiles what changed, so
 * learnt state reaches every replica within about a second; a registry write announced on pub/sub (another
 * replica's admin change) starts a refresh at once. While Redis is away the last
 * copies keep serving (degraded, visible in readiness).
 */
@Injectable()
export class PolicyCache implements OnModuleInit, OnApplicationShutdown {
  private runtimes = new Map<string, PolicyRuntime>();
  private models = new Map<string, Model>();
  private energyPerToken = new Map<string, number>();
  private readonly compiledAt = new Map<string, number>();
  private readonly signatures = new Map<string, string>();
  /** Policies whose last compile failed (the message): each is served from its last copy, if any, alone. */
  private readonly unbuildable = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private changes: ChannelSubscription | null = null;
  private refreshing: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  lastRefreshOk = 0;
  lastError: string | null = null;
  private readonly log: Logger;

  constructor(
    private readonly registry: RegistryStore,
    private readonly state: PolicyStateStore,
    private readonly modelEnergy: ModelEnergyStore,
    private readonly repair: StateRepair,
    @Inject(CONFIG) private readonly env: ApiEnv,
    logger: Logger,
  ) {
    this.log = logger.child('policy-cache');
  }

  async onModuleInit(): Promise<void> {
    await this.refresh().catch(() => undefined);
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.env.REFRESH_INTERVAL_MS);
    this.timer.unref();
    // Another replica's admin write: re-read at once instead of at the next poll.
    this.changes = this.registry.subscribe(() => void this.refresh().catch(() => undefined));
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.changes?.close();
  }

  get(name: string): PolicyRuntime | undefined {
    return this.runtimes.get(name);
  }
  /** Why the policy's current state could not be compiled (it is then served from its last copy, if any). */
  compileError(name: string): string | undefined {
    return this.unbuildable.get(name);
  }
  model(id: string): Model | undefined {
    return this.models.get(id);
  }
  policyNames(): string[] {
    return [...this.runtimes.keys()];
  }
  modelIds(): string[] {
    return [...this.models.keys()];
  }

  /**
   * Re-reads everything (admin writes call it so their own replica answers from the new config at once). A call
   * made while a refresh is running gets a fresh one after it: the running one may have read Redis before the
   * caller's write.
   */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.queued ??= this.refreshing
        .catch(() => undefined)
        .then(() => {
          this.queued = null;
          return this.refresh();
        });
      return this.queued;
    }
    this.refreshing = this.doRefresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    try {
      await this.repair.republishRegistry();
      const [policies, models] = await Promise.all([this.registry.policies(), this.registry.models()]);
      this.models = new Map(models.map((m) => [m.id, m]));
      const versions = await this.state.versions(policies.map((p) => p.name));
      const estimates = await this.modelEnergy.read();
      if (estimates === null) this.repair.modelEnergyMissing();
      const jpt = new Map<string, number>();
      for (const [model, e] of estimates ?? []) jpt.set(model, e.joulesPerOutputToken);
      this.energyPerToken = jpt;
      const next = new Map<string, PolicyRuntime>();
      for (let i = 0; i < policies.length; i++) {
        const p = policies[i];
        const cur = this.runtimes.get(p.name);
        const v = versions[i];
        if (v.epoch === null) {
          // The state hash is gone (Redis flushed or restarted without AOF): keep deciding from the last copy
          // and have it rebuilt from the Postgres log, instead of starting from nothing.
          this.repair.policyStateMissing(p.name);
          if (cur) {
            next.set(p.name, cur);
            continue;
          }
        }
        const signature = this.modelsSignature(p, jpt);
        const sameConfig = cur !== undefined && cur.policy.version === p.version && cur.policy.epoch === p.epoch && this.signatures.get(p.name) === signature;
        const stateFresh = cur !== undefined && (cur.seq === v.seq || Date.now() - (this.compiledAt.get(p.name) ?? 0) < this.env.STATE_RECOMPILE_MS);
        if (sameConfig && stateFresh) {
          next.set(p.name, cur);
          continue;
        }
        this.compiledAt.set(p.name, Date.now());
        this.signatures.set(p.name, signature);
        const built = await this.build(p, jpt);
        if (built) next.set(p.name, built);
        else if (cur) next.set(p.name, cur);
      }
      for (const name of this.unbuildable.keys()) if (!policies.some((p) => p.name === name)) this.unbuildable.delete(name);
      this.runtimes = next;
      this.lastRefreshOk = Date.now();
      this.lastError = null;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (this.lastError !== msg) this.log.warn('policy refresh failed; serving the last copy', { error: msg });
      this.lastError = msg;
      throw err;
    }
  }

  /** The registry is re-read on every poll, so models are compared by content, not identity. */
  private modelsSignature(p: Policy, jpt: ReadonlyMap<string, number>): string {
    return JSON.stringify(p.arms.map((a) => [this.models.get(a) ?? null, jpt.get(a) ?? null]));
  }

  /**
   * `p` (a variant of a live policy) compiled from that policy's current state with this replica's registry and
   * measured energy: what the live copy would be with the variant's settings. Not cached.
   */
  async compileVariant(p: Policy): Promise<PolicyRuntime> {
    const state = await this.readState(p);
    try {
      return compileRuntime(p, state, this.models, this.energyPerToken);
    } catch (err) {
      throw new DomainError('UNAVAILABLE', `policy ${p.name}'s learnt state does not compile: ${err instanceof Error ? err.message : String(err)}`, [], 30);
    }
  }

  private readState(p: Policy) {
    return this.state.read(this.state.policyTarget(p.name));
  }

  /**
   * One policy read and compiled, or null when that fails (state that does not decode or compile: a bug, or state
   * no input should reach): that policy alone keeps its last copy and is tried again on later polls, while the
   * refresh goes on for every other one. (With Redis away the registry reads before this fail the whole refresh.)
   */
  private async build(p: Policy, jpt: Map<string, number>): Promise<PolicyRuntime | null> {
    try {
      const rt = compileRuntime(p, await this.readState(p), this.models, jpt);
      this.unbuildable.delete(p.name);
      return rt;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (this.unbuildable.get(p.name) !== msg) this.log.error('policy could not be compiled; serving its last copy', { policy: p.name, error: msg });
      this.unbuildable.set(p.name, msg);
      return null;
    }
  }
}

function compileRuntime(
  p: Policy,
  state: { arms: Parameters<typeof buildRuntime>[1]; seq: number },
  models: ReadonlyMap<string, Model>,
  jpt: ReadonlyMap<string, number>,
): PolicyRuntime {
  return buildRuntime(p, state.arms, armPriors(p, models, jpt), state.seq, objectiveScales(p, models));
}
