import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Model, type Policy } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG, isDependencyDown, Logger, runInSlices, SLICE_MS } from '@app/infra';
import { type Steps } from '@app/bandits';
import { armPriors, buildRuntimeSteps, compiledAlike, objectiveScales, type PolicyRuntime, variantSteps } from '@app/learning';
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
  /** Per policy, the time its last compile kept this replica busy (ms): it spaces the next (recompileEvery). */
  private readonly compileMs = new Map<string, number>();
  private readonly signatures = new Map<string, string>();
  /** Policies whose last refresh failed: each is served from its last copy, if any, alone (see build). */
  private readonly failed = new Map<string, FailedRefresh>();
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
  /** Why the policy's current state could not be read or compiled (it is then served from its last copy, if any). */
  compileError(name: string): string | undefined {
    return this.failed.get(name)?.message;
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
      // Per policy: one state that cannot be read (a wrong type, its cluster node away) holds up only that policy.
      // Redis itself away fails the whole refresh (every copy keeps serving, readiness shows the copy's age).
      const versions = await Promise.all(
        policies.map((p) =>
          this.state.versions([p.name]).then(
            ([v]) => v,
            (err: unknown) => {
              if (isDependencyDown(err)) throw err;
              return errorText(err);
            },
          ),
        ),
      );
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
        if (typeof v === 'string') {
          this.fail(p.name, `its state could not be read: ${v}`, 'read');
          if (cur) next.set(p.name, cur);
          continue;
        }
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
        const stateFresh = cur !== undefined && (cur.seq === v.seq || Date.now() - (this.compiledAt.get(p.name) ?? 0) < this.recompileEvery(p.name));
        if (sameConfig && stateFresh) {
          // The copy is of this very config, state and models: whatever failed before (a read) is over.
          if (cur.seq === v.seq) this.failed.delete(p.name);
          next.set(p.name, cur);
          continue;
        }
        // A policy that failed is tried again when its config, state or models change, else after a while.
        const attempt = `${p.version}/${p.epoch}/${v.seq}/${signature}`;
        const f = this.failed.get(p.name);
        if (f && f.attempt === attempt && Date.now() - f.at < FAILED_RETRY_MS) {
          if (cur) next.set(p.name, cur);
          continue;
        }
        this.compiledAt.set(p.name, Date.now());
        const built = await this.build(p, jpt, attempt, sameConfig ? cur : undefined);
        if (built) {
          this.signatures.set(p.name, signature);
          next.set(p.name, built);
        } else if (cur) next.set(p.name, cur);
      }
      for (const name of this.failed.keys()) if (!policies.some((p) => p.name === name)) this.failed.delete(name);
      this.runtimes = next;
      this.lastRefreshOk = Date.now();
      // Readiness shows a refresh that left a policy unread as not fully refreshing (its copy is getting old).
      const unread = [...this.failed.entries()].filter(([, f]) => f.attempt === 'read').map(([name]) => name);
      this.lastError = unread.length > 0 ? `state of ${unread.join(', ')} could not be read` : null;
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
   * measured energy: what the live copy would be with the variant's settings. Not cached. `base`: a variant compiled
   * earlier; one compiled alike (compiledAlike) is built from it (variantSteps: its statistics, no read, its arms
   * copied). `signal`: the work stops when it aborts.
   */
  async compileVariant(p: Policy, base?: PolicyRuntime, signal?: AbortSignal): Promise<PolicyRuntime> {
    try {
      if (base && compiledAlike(base, p)) return (await runInSlices(variantSteps(base, p), compileSlice(p), signal)).value;
      const state = await this.readState(p);
      return (await runInSlices(compileSteps(p, state, this.models, this.energyPerToken), compileSlice(p), signal)).value;
    } catch (err) {
      if (isDependencyDown(err) || signal?.aborted) throw err;
      throw new DomainError('UNAVAILABLE', `policy ${p.name} cannot be evaluated now: its learnt state could not be read or compiled here`, [], 30);
    }
  }

  private readState(p: Policy) {
    return this.state.read(this.state.policyTarget(p.name));
  }

  /**
   * One policy read and compiled, or null when either fails (state that cannot be read, or does not compile: a
   * bug, or state no input should reach): that policy alone keeps its last copy and is tried again later (see
   * doRefresh), while the refresh goes on for every other one. (With Redis away the registry reads before this
   * fail the whole refresh.)
   */
  private async build(p: Policy, jpt: Map<string, number>, attempt: string, previous?: PolicyRuntime): Promise<PolicyRuntime | null> {
    let state: Awaited<ReturnType<PolicyCache['readState']>>;
    try {
      state = await this.readState(p);
    } catch (err) {
      this.fail(p.name, `its state could not be read: ${errorText(err)}`, 'read');
      return null;
    }
    try {
      const rt = await this.runSliced(p, compileSteps(p, state, this.models, jpt, previous));
      this.failed.delete(p.name);
      return rt;
    } catch (err) {
      this.fail(p.name, `its state does not compile: ${errorText(err)}`, attempt);
      return null;
    }
  }

  /**
   * Runs a compile's steps (O(d²) work each) in slices (runInSlices); records the time it kept this replica busy.
   */
  private async runSliced(p: Policy, steps: Steps<PolicyRuntime>): Promise<PolicyRuntime> {
    const { value, busyMs } = await runInSlices(steps, compileSlice(p));
    this.compileMs.set(p.name, busyMs);
    return value;
  }

  /**
   * How long a policy's compiled copy stands while its state moves: STATE_RECOMPILE_MS, or longer for a policy whose
   * compile is long (many arms, a large dim), so that recompiling it takes at most 1/RECOMPILE_SHARE of this replica's
   * time. Its own decisions are folded in locally meanwhile.
   */
  private recompileEvery(policy: string): number {
    return Math.max(this.env.STATE_RECOMPILE_MS, RECOMPILE_SHARE * (this.compileMs.get(policy) ?? 0));
  }

  private fail(policy: string, message: string, attempt: string): void {
    if (this.failed.get(policy)?.message !== message) this.log.error('policy not refreshed; serving its last copy', { policy, reason: message });
    this.failed.set(policy, { message, attempt, at: Date.now() });
  }
}

/** A policy's failed refresh: why, when, and what was tried ('read', or its config, state and models). */
interface FailedRefresh {
  message: string;
  attempt: string;
  at: number;
}

/** How long a policy whose refresh failed waits before the same attempt is made again. */
const FAILED_RETRY_MS = 30_000;
/** A policy of at most this many arms × dim³ is compiled in one piece: 16 arms at dim 64 (about 5 ms here). */
const WHOLE_COMPILE_SIZE = 16 * 64 ** 3;

/**
 * How long a compile runs between chances for requests to run. A small policy is compiled at once: splitting its few
 * ms spreads them over more of the requests' turns and gained nothing measurable (bench:dims at dim 64). Judged by
 * its size, not by its last compile, which may have inverted only a few of its arms.
 */
const compileSlice = (p: Policy): number => (p.arms.length * p.features.dim ** 3 <= WHOLE_COMPILE_SIZE ? Infinity : SLICE_MS);
/** A policy is recompiled at most once per this many times its last compile's length (see recompileEvery). */
const RECOMPILE_SHARE = 5;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A policy's compile from its stored state, as steps (buildRuntimeSteps; `previous`: of the same settings and models). */
function compileSteps(
  p: Policy,
  state: { arms: ReadonlyMap<string, Float64Array>; seq: number },
  models: ReadonlyMap<string, Model>,
  jpt: ReadonlyMap<string, number>,
  previous?: PolicyRuntime,
): Steps<PolicyRuntime> {
  return buildRuntimeSteps(p, state.arms, armPriors(p, models, jpt), state.seq, objectiveScales(p, models), previous);
}
