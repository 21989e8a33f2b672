import { type Queue } from 'bullmq';
import { batchJobPayload, JOB_KINDS, type JobItems, type JobKind } from '@app/contracts';
import { JOB_OPTIONS, jobIdFor, type Logger } from '@app/infra';

const MAX_BUFFERED = 200_000;

/**
 * Buffers records of one kind and enqueues them as one BullMQ job (the kind's batch job) per `batchSize` records
 * or `flushMs` (a job per record costs a Redis script and a worker wake-up each). On failure the buffer is kept
 * and retried on the next tick; beyond MAX_BUFFERED the oldest records are dropped and counted.
 */
export class BatchFlusher<K extends JobKind> {
  private buffer: JobItems[K][] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing = false;
  dropped = 0;

  constructor(
    private readonly queue: Queue,
    private readonly kind: K,
    /** What a batch's job id derives from (a retried flush of the same batch is then not queued twice). */
    private readonly idOf: (batch: readonly JobItems[K][]) => string,
    private readonly batchSize: number,
    private readonly flushMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (let i = 0; i < 20 && this.buffer.length > 0; i++) await this.flush();
  }

  get pending(): number {
    return this.buffer.length;
  }

  push(rec: JobItems[K]): void {
    if (this.buffer.length >= MAX_BUFFERED) {
      this.buffer.shift();
      this.dropped++;
    }
    this.buffer.push(rec);
    if (this.buffer.length >= this.batchSize) void this.flush();
  }

  async flush(): Promise<void> {
    if (this.flushing || this.buffer.length === 0) return;
    this.flushing = true;
    const job = JOB_KINDS[this.kind].many;
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer.slice(0, this.batchSize);
        await this.queue.add(job.name, batchJobPayload(this.kind, batch), { ...JOB_OPTIONS, jobId: jobIdFor(job.idPrefix, this.idOf(batch)) });
        this.buffer.splice(0, batch.length);
      }
    } catch (err) {
      this.log.warn(`could not enqueue ${job.name}; will retry`, { buffered: this.buffer.length, error: (err as Error).message });
    } finally {
      this.flushing = false;
    }
  }
}
