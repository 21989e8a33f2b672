import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit, type Type } from '@nestjs/common';
import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { type EventJobKind, JOB, type KindedItem, parseJob, QUEUE_NAME, WORKER_PROTOCOL, workerNameFor } from '@app/contracts';
import { DefaultRewardSweeper, EventApplier } from '@app/ingest';
import { CONFIG, JOB_OPTIONS, Logger, SpanKind, withSpan } from '@app/infra';
import { DeadLetterer } from './dead-letterer.js';
import { type JobOutcome, WorkerMetrics } from './observability/worker-metrics.js';
import { type Job, type Queue, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import { type WorkerEnv } from './config.js';
import { DeadLetteredError, MicroBatcher, OrphanEventError } from './micro-batcher.js';
import { retryMixedJobsFailedByOlderWorkers } from './mixed-rescue.js';
import { OutagePause } from './outage-pause.js';
import { oldestQueuedAt } from './oldest-queued.js';

/**
 * How much earlier than its job's queueing an event may have been received (the api's group-commit window, its
 * lookups and marks before the queue), or, with nothing queued, how long a request may be on its way to the queue.
 */
const QUEUED_SLACK_MS = 5000;
/** A job queued longer ago than this is stuck or waits out an outage: it no longer holds the sweep back. */
const MAX_HOLD_MS = 600_000;
/** Held back longer than this, the sweep says so. */
const HELD_LOG_MS = 60_000;

/** BullMQ worker options from this process's configuration (see `processorFor`). */
export function workerOptions(env: WorkerEnv): Omit<WorkerOptions, 'connection'> {
  return {
    // Declares which job names this worker takes (the api reads it from Redis's client list before it sends a
    // job that workers of an earlier version would not know).
    name: workerNameFor(WORKER_PROTOCOL),
    concurrency: env.WORKER_CONCURRENCY,
    lockDuration: env.WORKER_LOCK_MS,
    stalledInterval: env.WORKER_LOCK_MS,
    // Every job is idempotent (exactly-once application), so a job whose worker died is always run again; the
    // default (1) would fail it on the second crash and leave its events unlearnt.
    maxStalledCount: 1000,
    // Jobs carry backoff {type: 'custom'}: failed batches (Postgres or Redis away) retry every ≤ 30 s for hours.
    settings: { backoffStrategy: (attemptsMade: number) => Math.min(30_000, 250 * 2 ** attemptsMade) },
    // Never reached by traffic: present so that `queue.rateLimit` (the outage pause, see OutagePause) holds every
    // worker, which BullMQ checks only when a limiter is configured. Costs one INCR per job.
    limiter: { max: 1e12, duration: 1000 },
  };
}

/** The processor class registered with this process's worker options (@nestjs/bullmq reads them from the decorator). */
export function processorFor(env: WorkerEnv): Type<EventsProcessor> {
  @Processor(QUEUE_NAME, workerOptions(env))
  class ConfiguredEventsProcessor extends EventsProcessor {}
  return ConfiguredEventsProcessor;
}

/** Re-parses every job with the API's schemas and hands it to the micro-batcher. */
@Injectable()
export class EventsProcessor extends WorkerHost implements OnModuleInit, OnModuleDestroy {
  private readonly batcher: MicroBatcher;
  private readonly outage: OutagePause;
  private readonly log: Logger;

  constructor(
    applier: EventApplier,
    private readonly sweeper: DefaultRewardSweeper,
    @Inject(CONFIG) private readonly env: WorkerEnv,
    @InjectQueue(QUEUE_NAME) private readonly queue: Queue,
    logger: Logger,
    private readonly deadLetterer: DeadLetterer,
    private readonly metrics: WorkerMetrics,
  ) {
    super();
    this.log = logger.child('worker');
    this.batcher = new MicroBatcher((input) => applier.apply(input), env.WORKER_BATCH_SIZE, env.WORKER_LINGER_MS, env.WORKER_PARALLEL_BATCHES, deadLetterer);
    this.outage = new OutagePause(
      (ms) => queue.rateLimit(ms),
      env.WORKER_OUTAGE_PROBE_MS,
      this.log,
      (narrowed) => void (this.worker.concurrency = narrowed ? 1 : env.WORKER_CONCURRENCY),
    );
  }

  private schedulerTimer: NodeJS.Timeout | null = null;
  /** When the sweep last said it was held back (at most once a HELD_LOG_MS). */
  private heldLoggedAt = 0;

  async onModuleInit(): Promise<void> {
    await this.scheduleSweep();
    // Upserted again every minute: a flushed or restarted Redis loses the scheduler. Jobs an earlier version's worker
    // failed for their name go back to the queue at the same pace.
    this.schedulerTimer = setInterval(() => {
      void this.scheduleSweep().catch(() => undefined);
      void this.rescueMixedJobs().catch(() => undefined);
    }, 60_000);
    this.schedulerTimer.unref();
  }

  onModuleDestroy(): void {
    if (this.schedulerTimer) clearInterval(this.schedulerTimer);
  }

  private async rescueMixedJobs(): Promise<void> {
    const n = await retryMixedJobsFailedByOlderWorkers(this.queue);
    if (n > 0) this.log.warn('jobs that a worker of an earlier version could not take are queued again', { jobs: n });
  }

  /**
   * One scheduler for the whole deployment (BullMQ keeps a single repeat per id, whichever worker upserts it).
   * Its jobs keep the retention of every other job: BullMQ applies a count to the whole completed set, so a
   * smaller one here would trim the event jobs kept for an hour (their ids answer a repeated enqueue).
   */
  private async scheduleSweep(): Promise<void> {
    const { removeOnComplete, removeOnFail } = JOB_OPTIONS;
    await this.queue.upsertJobScheduler(
      JOB.sweepDefaults,
      { every: this.env.DEFAULT_REWARD_SWEEP_MS },
      { name: JOB.sweepDefaults, opts: { removeOnComplete, removeOnFail } },
    );
  }

  async process(job: Job): Promise<void> {
    const t0 = performance.now();
    const done = (outcome: JobOutcome) => this.metrics.observe(job.name, outcome, (performance.now() - t0) / 1000);
    try {
      await this.learn(job);
      this.outage.onSuccess();
      done('learnt');
    } catch (err) {
      // An orphan or a dead letter was answered by Postgres: an outage, if one was on, is over.
      if (err instanceof OrphanEventError) {
        this.outage.onSuccess();
        done('orphaned');
        throw new UnrecoverableError(err.message);
      }
      if (err instanceof DeadLetteredError) {
        this.outage.onSuccess();
        this.log.warn('an event Postgres refuses was set aside as a dead letter', { jobId: job.id, error: err.message });
        return done('dead_lettered');
      }
      if (await this.outage.onFailure(err)) {
        done('paused');
        throw Worker.RateLimitError();
      }
      if (!(err instanceof UnrecoverableError))
        this.log.warn('batch failed; job will be retried', { jobId: job.id, attempt: job.attemptsMade + 1, error: (err as Error).message });
      done(err instanceof UnrecoverableError ? 'invalid' : 'retried');
      throw err;
    }
  }

  private async learn(job: Job): Promise<void> {
    if (job.name === JOB.sweepDefaults) return await this.sweep(job);
    const parsed = parseJob(job.name, job.data);
    // A batch's items that do not parse are set aside alone; the others (often other tenants') go on.
    if (parsed.form === 'decisions' || parsed.form === 'many') await this.deadLetterer.setAsideRefused(String(job.id), parsed.refused);
    switch (parsed.form) {
      case 'decisions':
        return parsed.decisions.length === 0 ? undefined : await this.batcher.submit({ kind: 'decisions', data: parsed.decisions });
      case 'one':
        return await this.batcher.submit(parsed.item);
      case 'many':
        return await this.settleAll(
          job,
          parsed.items.map((item) => this.submitTraced(item)),
        );
      case 'invalid':
        throw new UnrecoverableError(`job ${job.id} (${job.name}) has an invalid payload: ${parsed.error}`);
      case 'unknown':
        throw new UnrecoverableError(`unknown job name ${job.name}`);
    }
  }

  /**
   * Default rewards of the decisions whose window closed with no feedback in Postgres, and also before the oldest
   * job still queued was queued (less QUEUED_SLACK_MS; jobs held over MAX_HOLD_MS aside): a feedback event waiting
   * in the queue behind a backlog may have been received within the window, and must claim the decision before its
   * default does.
   */
  private async sweep(job: Job): Promise<void> {
    const now = Date.now();
    const queued = await oldestQueuedAt(this.queue, JOB.sweepDefaults, now - MAX_HOLD_MS);
    const cutoff = Math.min(now, queued ?? now) - QUEUED_SLACK_MS;
    if (now - cutoff > HELD_LOG_MS && now - this.heldLoggedAt > HELD_LOG_MS) {
      this.heldLoggedAt = now;
      this.log.info('default rewards wait for older queued events', { heldMs: now - cutoff });
    }
    const due = await this.sweeper.due(cutoff);
    if (due.length > 0) this.log.info('applying default rewards', { decisions: due.length });
    return await this.settleAll(
      job,
      due.map((data) => this.batcher.submit({ kind: 'feedback', data })),
    );
  }

  /** Batched usage events carry their proxied request's trace context (single usage jobs predate it). */
  private submitTraced(item: KindedItem<EventJobKind>): Promise<void> {
    if (item.kind !== 'usage') return this.batcher.submit(item);
    const { data } = item;
    // One span per proxied request's learning step, in the request's trace (a no-op unless tracing is on).
    return withSpan('learn usage', { 'router.decision_id': data.decisionId ?? 'direct', 'router.model': data.model }, () => this.batcher.submit(item), {
      carrier: data.trace,
      kind: SpanKind.CONSUMER,
    });
  }

  /**
   * A batch job completes when each of its events has been learnt, found orphaned (its decision exists nowhere,
   * so a retry cannot help; it is logged) or dead-lettered. Any other failure retries the whole job; the events
   * already learnt are not counted again.
   */
  private async settleAll(job: Job, parts: Promise<void>[]): Promise<void> {
    const results = await Promise.allSettled(parts);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const orphans = failed.filter((r) => r.reason instanceof OrphanEventError).length;
    if (orphans > 0) this.log.warn('events whose decision does not exist were dropped', { jobId: job.id, events: orphans });
    const dead = failed.filter((r) => r.reason instanceof DeadLetteredError).length;
    if (dead > 0) this.log.warn('events Postgres refuses were set aside as dead letters', { jobId: job.id, events: dead });
    const other = failed.find((r) => !(r.reason instanceof OrphanEventError) && !(r.reason instanceof DeadLetteredError));
    if (other) throw other.reason;
  }
}
