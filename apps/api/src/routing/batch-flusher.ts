import { type Queue } from 'bullmq';
import { JOB_OPTIONS, type Logger } from '@app/infra';

const MAX_BUFFERED = 200_000;

/**
 * Buffers records and enqueues them as one BullMQ job per `batchSize` records or `flushMs` (a job per record
 * costs a Redis script and a worker wake-up each). On failure the buffer is kept and retried on the next tick;
 * beyond MAX_BUFFERED the oldest records are dropped and counted.
 */
export class BatchFlusher<T> {
  private buffer: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing = false;
  dropped = 0;

  constructor(
    private readonly queue: Queue,
    private readonly jobName: string,
    private readonly job: (batch: T[]) => { data: unknown; jobId: string },
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

  push(rec: T): void {
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
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer.slice(0, this.batchSize);
        const { data, jobId } = this.job(batch);
        await this.queue.add(this.jobName, data, { ...JOB_OPTIONS, jobId });
        this.buffer.splice(0, batch.length);
      }
    } catch (err) {
      this.log.warn(`could not enqueue ${this.jobName}; will retry`, { buffered: this.buffer.length, error: (err as Error).message });
    } finally {
      this.flushing = false;
    }
  }
}
