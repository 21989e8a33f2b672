import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get, Inject, type OnModuleDestroy, type OnModuleInit, Res } from '@nestjs/common';
import { QUEUE_NAME } from '@app/contracts';
import { Logger, REDIS, type RedisClient, SQL } from '@app/infra';
import { type Sql } from '@app/persistence';
import { type Queue } from 'bullmq';
import { type FastifyReply } from 'fastify';
import { MetricsAccess } from '../auth/scopes.js';
import { DecisionFlusher } from '../routing/decision-flusher.service.js';
import { OwedHotCopies } from '../routing/owed-hot-copies.service.js';
import { PolicyCache } from '../routing/policy-cache.service.js';
import { DependencyMonitor, type DependencyStatus } from './dependency-monitor.js';

/** Backing services are checked this often in the background; a check unanswered after CHECK_TIMEOUT_MS fails. */
export const CHECK_INTERVAL_MS = 1000;
export const CHECK_TIMEOUT_MS = 1000;

type Dependency = 'redis' | 'postgres' | 'queue';
type Status = 'ok' | 'degraded' | 'unavailable' | 'stopping';

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/**
 * Liveness, readiness and a dependency report.
 *
 * Readiness means "this replica can route": it answers 200 while the replica holds a policy copy to decide from
 * (PolicyCache keeps serving its last copy through Redis and Postgres outages), with `status: "degraded"` and the
 * dependencies that are away, and 503 only when it cannot route: no policy copy loaded since start (Redis has not
 * answered yet), or the process is shutting down. A load balancer pointed at it keeps every replica in rotation
 * during the outages the service is built to ride out, instead of taking all of them out at once.
 *
 * Probes answer from the DependencyMonitor's background checks (no I/O per probe, never waits for a hanging
 * dependency). The dependency report runs a fresh check and shows latency and the last error of each; like
 * /metrics it needs METRICS_TOKEN (or an admin key) when METRICS_TOKEN is set, as error messages name hosts.
 */
@Controller('health')
export class HealthController implements OnModuleInit, OnModuleDestroy {
  private readonly monitor: DependencyMonitor<Dependency>;
  private stopping = false;

  constructor(
    @Inject(REDIS) redis: RedisClient,
    @Inject(SQL) sql: Sql,
    @InjectQueue(QUEUE_NAME) queue: Queue,
    private readonly cache: PolicyCache,
    private readonly flusher: DecisionFlusher,
    private readonly owed: OwedHotCopies,
    logger: Logger,
  ) {
    this.monitor = new DependencyMonitor<Dependency>(
      {
        redis: async () => void (await redis.ping()),
        postgres: async () => void (await sql`select 1`),
        queue: async () => {
          const [counts, limitTtl, workers] = await Promise.all([
            queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
            queue.getRateLimitTtl(),
            // CLIENT LIST: refused by some managed Redis services; the count is then unknown, not a failure.
            queue.getWorkersCount().catch(() => null),
          ]);
          return {
            waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
            active: counts.active ?? 0,
            delayed: counts.delayed ?? 0,
            failed: counts.failed ?? 0,
            workers,
            // Workers hold the queue while Postgres or Redis is away (the outage pause): learning resumes after it.
            learningPausedForMs: Math.max(0, limitTtl),
          };
        },
      },
      { intervalMs: CHECK_INTERVAL_MS, timeoutMs: CHECK_TIMEOUT_MS },
      logger.child('health'),
    );
  }

  onModuleInit(): void {
    this.monitor.start();
  }

  /** Shutdown has begun: readiness answers 503 so load balancers stop sending before the server closes. */
  onModuleDestroy(): void {
    this.stopping = true;
    this.monitor.stop();
  }

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** 200 while this replica can route (status "ok" or "degraded"), 503 when it cannot ("unavailable", "stopping"). */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const deps = await this.monitor.snapshot();
    const canRoute = this.canRoute();
    void reply.status(canRoute ? 200 : 503).header('cache-control', 'no-store');
    const lastOk = this.cache.lastRefreshOk;
    return {
      status: this.status(canRoute, deps),
      canRoute,
      routing: { policies: this.cache.policyNames().length, copyAgeMs: lastOk ? Date.now() - lastOk : null, refreshing: this.cache.lastError === null },
      dependencies: this.map(deps, (d) => ({ ok: d.ok, since: iso(d.since), latencyMs: d.latencyMs })),
      decisionsBuffered: this.flusher.pending,
      hotCopiesOwed: this.owed.size,
    };
  }

  /** Always 200 (when authorized): each dependency checked now, with its latency, last error and details. */
  @Get('dependencies')
  @MetricsAccess()
  async dependencies(@Res({ passthrough: true }) reply: FastifyReply) {
    const deps = await this.monitor.checkNow();
    const canRoute = this.canRoute();
    void reply.header('cache-control', 'no-store');
    const lastOk = this.cache.lastRefreshOk;
    return {
      status: this.status(canRoute, deps),
      canRoute,
      checkedAt: iso(Date.now()),
      dependencies: this.map(deps, (d) => ({
        ok: d.ok,
        latencyMs: d.latencyMs,
        checkedAt: iso(d.checkedAt),
        since: iso(d.since),
        lastOkAt: iso(d.lastOkAt),
        lastError: d.lastError && { message: d.lastError.message, at: iso(d.lastError.at) },
        consecutiveFailures: d.consecutiveFailures,
        ...(d.details ? { details: d.details } : {}),
      })),
      routing: {
        policies: this.cache.policyNames().length,
        models: this.cache.modelIds().length,
        lastRefreshOkAt: iso(lastOk || null),
        copyAgeMs: lastOk ? Date.now() - lastOk : null,
        lastRefreshError: this.cache.lastError,
      },
      decisionsBuffered: this.flusher.pending,
      decisionsDropped: this.flusher.dropped,
      hotCopiesOwed: this.owed.size,
      hotCopiesDropped: this.owed.dropped,
    };
  }

  /** A policy copy to decide from (loaded at least once since start) and not shutting down. */
  private canRoute(): boolean {
    return !this.stopping && this.cache.lastRefreshOk > 0;
  }

  private status(canRoute: boolean, deps: Record<Dependency, DependencyStatus>): Status {
    if (this.stopping) return 'stopping';
    if (!canRoute) return 'unavailable';
    const allOk = Object.values<DependencyStatus>(deps).every((d) => d.ok === true) && this.cache.lastError === null;
    return allOk ? 'ok' : 'degraded';
  }

  private map<T>(deps: Record<Dependency, DependencyStatus>, f: (d: DependencyStatus) => T): Record<Dependency, T> {
    return { redis: f(deps.redis), postgres: f(deps.postgres), queue: f(deps.queue) };
  }
}
