import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type DecisionRecord, QUEUE_NAME, type UsageJob } from '@app/contracts';
import { CONFIG, Logger } from '@app/infra';
import { type Queue } from 'bullmq';
import { type ApiEnv } from '../config.js';
import { BatchFlusher } from './batch-flusher.js';

/**
 * Decisions reach the worker (and so Postgres and the A statistics) in batches: one job per
 * DECISION_BATCH_SIZE decisions or DECISION_FLUSH_MS. The hot copy written at route time already lets feedback
 * join a decision that is still buffered here; if this process dies with a buffer, the worker joins those
 * decisions from their hot copies when their feedback arrives. The proxy's usage events travel the same way.
 */
@Injectable()
export class DecisionFlusher implements OnModuleInit, OnApplicationShutdown {
  private readonly decisions: BatchFlusher<'decisions'>;
  private readonly usage: BatchFlusher<'usage'>;

  constructor(@InjectQueue(QUEUE_NAME) queue: Queue, @Inject(CONFIG) env: ApiEnv, logger: Logger) {
    const log = logger.child('decision-flusher');
    this.decisions = new BatchFlusher(queue, 'decisions', (b) => b[0].id, env.DECISION_BATCH_SIZE, env.DECISION_FLUSH_MS, log);
    this.usage = new BatchFlusher(queue, 'usage', (b) => b[0].eventId, env.DECISION_BATCH_SIZE, env.DECISION_FLUSH_MS, log);
  }

  onModuleInit(): void {
    this.decisions.start();
    this.usage.start();
  }

  async onApplicationShutdown(): Promise<void> {
    // Decisions first: usage events join them.
    await this.decisions.stop();
    await this.usage.stop();
  }

  get pending(): number {
    return this.decisions.pending;
  }

  get dropped(): number {
    return this.decisions.dropped;
  }

  push(rec: DecisionRecord): void {
    this.decisions.push(rec);
  }

  pushUsage(u: UsageJob): void {
    this.usage.push(u);
  }

  flush(): Promise<void> {
    return this.decisions.flush();
  }
}
