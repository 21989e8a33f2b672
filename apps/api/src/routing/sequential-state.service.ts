import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CONFIG, Logger } from '@app/infra';
import { DuelRuntime, type LearnedRow, type PolicyRuntime, type SequentialState, TrendRuntime } from '@app/learning';
import { LearnedEventsRepository } from '@app/persistence';
import { type ApiEnv } from '../config.js';
import { PolicyCache } from './policy-cache.service.js';

/** Rows commit out of persisted_at order; re-reading this far back (deduplicated by id) catches late commits. */
const OVERLAP_MS = 30_000;
const PAGE = 5000;

interface Entry {
  key: string;
  /**
   * Policy epoch and version the key was last checked against (the key is rebuilt only when they move; a policy
   * deleted and created again restarts its version but not its epoch).
   */
  stamp: string;
  duel?: DuelRuntime;
  trend?: TrendRuntime;
  /** persisted_at text of the newest row read. */
  cursor: string;
}

/**
 * The order-dependent policies' state in this replica (ALGORITHMS.md §11: "per-replica; rebuild from the
 * records"): FGTS.CDB chains and TI-UCB windows, fed from Postgres's learned events every
 * SEQUENTIAL_REFRESH_MS. A new epoch, arm list or feature space starts afresh. While Postgres is away the
 * replica keeps deciding on what it has.
 */
@Injectable()
export class SequentialStateService implements OnModuleInit, OnApplicationShutdown {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly log: Logger;
  lastError: string | null = null;

  constructor(
    private readonly cache: PolicyCache,
    private readonly learned: LearnedEventsRepository,
    @Inject(CONFIG) private readonly env: ApiEnv,
    logger: Logger,
  ) {
    this.log = logger.child('sequential-state');
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.refresh(), this.env.SEQUENTIAL_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  duel(rt: PolicyRuntime): DuelRuntime {
    return (this.entry(rt).duel ??= new DuelRuntime(rt.policy.arms.length, rt.policy.features.dim));
  }

  trend(rt: PolicyRuntime): TrendRuntime {
    return (this.entry(rt).trend ??= new TrendRuntime(rt.policy.arms.length));
  }

  /** What decidePolicy reads beside the compiled statistics: the chains or windows of an order-dependent policy. */
  state(rt: PolicyRuntime): SequentialState {
    if (rt.algorithm === 'fgts-cdb') return { duel: this.duel(rt) };
    if (rt.algorithm === 'ti-ucb') return { trend: this.trend(rt) };
    return {};
  }

  /** Pulls new learned events for every order-dependent policy (also called by tests to skip the wait). */
  refresh(): Promise<void> {
    this.running ??= this.doRefresh().finally(() => (this.running = null));
    return this.running;
  }

  private entry(rt: PolicyRuntime): Entry {
    const p = rt.policy;
    let e = this.entries.get(p.name);
    const stamp = `${p.epoch}.${p.version}`;
    if (e && e.stamp === stamp) return e;
    // An objective change bumps the version but keeps the chains; a new epoch, arm list or feature space does not.
    const key = `${p.epoch}|${p.features.source}|${p.features.dim}|${p.arms.join(',')}`;
    if (!e || e.key !== key) {
      e = { key, stamp, cursor: '1970-01-01T00:00:00Z' };
      this.entries.set(p.name, e);
    }
    e.stamp = stamp;
    return e;
  }

  private async doRefresh(): Promise<void> {
    for (const name of this.cache.policyNames()) {
      const rt = this.cache.get(name);
      if (!rt || (rt.algorithm !== 'fgts-cdb' && rt.algorithm !== 'ti-ucb')) {
        this.entries.delete(name);
        continue;
      }
      const target = rt.algorithm === 'fgts-cdb' ? this.duel(rt) : this.trend(rt);
      const e = this.entry(rt);
      try {
        let after = e.cursor;
        let afterId = '';
        let overlap = OVERLAP_MS;
        for (;;) {
          const rows = await this.learned.since(name, rt.policy.epoch, after, afterId, overlap, PAGE);
          const learned: LearnedRow[] = rows.map((r) => ({
            id: r.id,
            kind: r.kind,
            reward: r.reward,
            x: Float64Array.from(r.context),
            arm: r.armIndex,
            second: r.arms && r.arms.length === 2 ? (rt.armIndex.get(r.arms[1]) ?? null) : null,
            createdAt: r.createdAt.getTime(),
          }));
          target.add(learned);
          if (rows.length === 0) break;
          const last = rows[rows.length - 1];
          e.cursor = last.persistedAt;
          after = last.persistedAt;
          afterId = last.id;
          overlap = 0;
          if (rows.length < PAGE) break;
        }
        this.lastError = null;
      } catch (err) {
        if (this.lastError === null) this.log.warn('learned events not read; deciding on the last copy', { policy: name, error: (err as Error).message });
        this.lastError = (err as Error).message;
      }
    }
  }
}
