import { isDependencyDown, type Logger } from '@app/infra';

/**
 * While Postgres (or Redis) is unreachable, every worker stops taking jobs instead of failing each one in turn:
 * a job whose batch failed for that reason goes back to the queue (its retry budget untouched) and the whole
 * queue is paused for `pauseMs` (BullMQ's manual rate limit, shared by all workers). After the pause the next
 * batch is the probe, so learning resumes within about `pauseMs` of the service returning, instead of after the
 * exponential retry backoff (up to 30 s), and an outage costs Redis and the CPU almost nothing.
 *
 * While paused, the worker also takes one job at a time (`narrow`): a worker takes as many waiting jobs as it may
 * hold (2,000 by default) before it runs any, so after each pause it would fetch, decode and send back every
 * job the outage held (the machine's CPU, shared with the api, went to that every second). The probe is then one
 * job; the first one learnt widens the worker again.
 */
export class OutagePause {
  private since: number | null = null;

  constructor(
    /** Pauses the queue for every worker for `ms` (`queue.rateLimit`). */
    private readonly pauseQueue: (ms: number) => Promise<void>,
    private readonly pauseMs: number,
    private readonly log: Logger,
    /** Sets how many jobs this worker holds at once: one during an outage, its configured number otherwise. */
    private readonly narrow: (narrowed: boolean) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a job that failed with `err` goes back to the queue (true: the queue is paused, throw RateLimitError). */
  async onFailure(err: unknown): Promise<boolean> {
    if (!isDependencyDown(err)) return false;
    try {
      await this.pauseQueue(this.pauseMs);
    } catch {
      // The pause could not be set (Redis failing too; usually this call waits for Redis instead, and by then the
      // job's lock may have lapsed and the stalled-job check has queued it again): the job's own retry applies.
      return false;
    }
    if (this.since === null) {
      this.since = this.now();
      this.narrow(true);
      this.log.warn('a backing service is unreachable: the queue is paused and probed again periodically', {
        probeEveryMs: this.pauseMs,
        error: (err as Error).message,
      });
    }
    return true;
  }

  /** A job was learnt: ends a pause, if one was on. */
  onSuccess(): void {
    if (this.since === null) return;
    this.log.info('backing services reachable again: the queue is resumed', { pausedForMs: this.now() - this.since });
    this.since = null;
    this.narrow(false);
  }
}
