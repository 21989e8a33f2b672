import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type DecisionRecord, JOB, QUEUE_NAME } from '@app/contracts';
import { CONFIG, JOB_OPTIONS, jobIdFor, Logger } from '@app/infra';
import { type Queue } from 'bullmq';
import { type ApiEnv } from '../config.js';

const MAX_BUFFERED = 200_000;

/**
 * Decisions reach the worker (and so Postgres and the A statistics) in batches: one job per
 * DECISION_BATCH_SIZE decisions or DECISION_FLUSH_MS. The hot copy written at route time already lets feedback
 * join a decision that is still buffered here; if this process dies with a buffer, the worker joins those
 * decisions from their hot copies when their feedback arrives.
 */
@Injectable()
export class DecisionFlusher implements OnModuleInit, OnApplicationShutdown {
  private buffer: DecisionRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing = false;
  dropped = 0;
  private readonly log: Logger;

  constructor(
    @InjectQueue(QUEUE_NAME) private readonly queue: Queue,
    @Inject(CONFIG) private readonly env: ApiEnv,
    logger: Logger,
  ) {
    this.log = logger.child('decision-flusher');
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.env.DECISION_FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (let i = 0; i < 20 && this.buffer.length > 0; i++) await this.flush();
  }

  get pending(): number {
    return this.buffer.length;
  }

  push(rec: DecisionRecord): void {
    if (this.buffer.length >= MAX_BUFFERED) {
      this.buffer.shift();
      this.dropped++;
    }
    this.buffer.push(rec);
    if (this.buffer.length >= this.env.DECISION_BATCH_SIZE) void this.flush();
  }

  async flush(): Promise<void> {
    if (this.flushing || this.buffer.length === 0) return;
    this.flushing = true;
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer.slice(0, this.env.DECISION_BATCH_SIZE);
        await this.queue.add(JOB.decisions, { decisions: batch }, { ...JOB_OPTIONS, jobId: jobIdFor('dec', batch[0].id) });
        this.buffer.splice(0, batch.length);
      }
    } catch (err) {
      this.log.warn('could not enqueue decisions; will retry', { buffered: this.buffer.length, error: (err as Error).message });
    } finally {
      this.flushing = false;
    }
  }
}
