import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { QUEUE_NAME } from '@app/contracts';
import { type Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How a job ended in this worker. */
export type JobOutcome = 'learnt' | 'dead_lettered' | 'orphaned' | 'retried' | 'paused' | 'invalid';

/** Queue counts read at most this long at a scrape (a slow Redis must not hang the scraper). */
const QUEUE_READ_TIMEOUT_MS = 1000;

/** Prometheus metrics of one worker process (its `GET /metrics`). Labels are bounded: job names and outcomes. */
@Injectable()
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly jobs = new Counter({
    name: 'router_worker_jobs_total',
    help: 'Queue jobs handled by this worker, by job name and outcome',
    labelNames: ['job', 'outcome'],
    registers: [this.registry],
  });
  readonly jobSeconds = new Histogram({
    name: 'router_worker_job_duration_seconds',
    help: 'Time from taking a job to its outcome (includes waiting for its micro-batch)',
    labelNames: ['job'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueJobs = new Gauge({
    name: 'router_worker_queue_jobs',
    help: 'Jobs in the shared queue by state, read at scrape time',
    labelNames: ['state'],
    registers: [this.registry],
  });

  constructor(@InjectQueue(QUEUE_NAME) private readonly queue: Queue) {
    collectDefaultMetrics({ register: this.registry, prefix: 'router_worker_' });
  }

  /** One job's outcome and duration. */
  observe(job: string, outcome: JobOutcome, seconds: number): void {
    this.jobs.inc({ job, outcome });
    this.jobSeconds.observe({ job }, seconds);
  }

  /** The text exposition, with the queue's counts read now (left out when Redis does not answer in time). */
  async render(): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), QUEUE_READ_TIMEOUT_MS)));
    const counts = await Promise.race([this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized').catch(() => null), timeout]);
    clearTimeout(timer);
    this.queueJobs.reset();
    if (counts) for (const [state, n] of Object.entries(counts)) this.queueJobs.set({ state }, n);
    return this.registry.metrics();
  }
}
