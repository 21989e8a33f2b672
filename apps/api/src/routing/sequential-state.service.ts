import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CONFIG, Logger } from '@app/infra';
import { DuelRuntime, type LearnedRow, type PolicyRuntime, type SequentialState, TrendRuntime } from '@app/learning';
import { type LearnedEventRow, LearnedEventsRepository } from '@app/persistence';
import { type ApiEnv } from '../config.js';
import { PolicyCache } from './policy-cache.service.js';

/** Rows commit out of persisted_at order; looking this far back for rows not seen yet catches late commits. */
const OVERLAP_MS = 30_000;
/**
 * How often a replica looks back (ids only, then the missing rows by id); every poll reads only rows after its
 * cursor. A row that commits behind the cursor is therefore learnt here within this long.
 */
export const CATCH_UP_MS = 2000;
const PAGE = 5000;
/** Ids per page of a look back (ids are small: a window of a heavy stream is read in few round trips). */
const REFS_PAGE = 50_000;

interface Entry {
  key: string;
  /**
   * Policy epoch and version the key was last checked against (the key is rebuilt only when they move; a policy
   * deleted and created again restarts its version but not its epoch).
   */
  stamp: string;
  duel?: DuelRuntime;
  trend?: TrendRuntime;
  /** (persisted_at text, id) of the newest row read. */
  cursor: string;
  cursorId: string;
  /** Ids read since the last look back, and those of its window it had read. */
  seen: Set<string>;
  /** When this replica last looked back (ms). */
  caughtUpAt: number;
}

type Target = { add(rows: readonly LearnedRow[]): number };

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
      e = { key, stamp, cursor: '1970-01-01T00:00:00Z', cursorId: '', seen: new Set(), caughtUpAt: Date.now() };
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
        await this.readNew(rt, target, e);
        if (Date.now() - e.caughtUpAt >= CATCH_UP_MS) await this.lookBack(rt, target, e);
        this.lastError = null;
      } catch (err) {
        if (this.lastError === null) this.log.warn('learned events not read; deciding on the last copy', { policy: name, error: (err as Error).message });
        this.lastError = (err as Error).message;
      }
    }
  }

  /** The rows after the cursor, page by page. */
  private async readNew(rt: PolicyRuntime, target: Target, e: Entry): Promise<void> {
    for (;;) {
      const rows = await this.learned.since(rt.policy.name, rt.policy.epoch, e.cursor, e.cursorId, 0, PAGE);
      this.add(rt, target, e, rows);
      if (rows.length === 0) return;
      const last = rows[rows.length - 1];
      e.cursor = last.persistedAt;
      e.cursorId = last.id;
      if (rows.length < PAGE) return;
    }
  }

  /**
   * The rows of the window before the cursor that committed after the cursor had passed them: their ids first, then
   * those not seen, whole. What was seen is then the window's rows read (older rows are never looked at again). The
   * window is OVERLAP_MS plus one look-back interval, so a row whose pass commits up to OVERLAP_MS after its
   * persisted time is found.
   */
  private async lookBack(rt: PolicyRuntime, target: Target, e: Entry): Promise<void> {
    const { name, epoch } = rt.policy;
    const inWindow = new Set<string>();
    const missing: string[] = [];
    let after = e.cursor;
    let afterId = '';
    let overlap = OVERLAP_MS + CATCH_UP_MS;
    for (;;) {
      const refs = await this.learned.refsBetween(name, epoch, after, afterId, overlap, e.cursor, e.cursorId, REFS_PAGE);
      for (const r of refs) {
        if (e.seen.has(r.id)) inWindow.add(r.id);
        else missing.push(r.id);
      }
      if (refs.length < REFS_PAGE) break;
      after = refs[refs.length - 1].persistedAt;
      afterId = refs[refs.length - 1].id;
      overlap = 0;
    }
    for (let i = 0; i < missing.length; i += PAGE) {
      const rows = await this.learned.byIds(name, epoch, missing.slice(i, i + PAGE));
      this.add(rt, target, e, rows);
      for (const r of rows) inWindow.add(r.id);
    }
    e.seen = inWindow;
    e.caughtUpAt = Date.now();
  }

  private add(rt: PolicyRuntime, target: Target, e: Entry, rows: readonly LearnedEventRow[]): void {
    const learned: LearnedRow[] = rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      reward: r.reward,
      x: Float64Array.from(r.context),
      arm: r.armIndex,
      second: r.arms && r.arms.length === 2 ? (rt.armIndex.get(r.arms[1]) ?? null) : null,
      createdAt: r.createdAt.getTime(),
    }));
    for (const r of rows) e.seen.add(r.id);
    target.add(learned);
  }
}
