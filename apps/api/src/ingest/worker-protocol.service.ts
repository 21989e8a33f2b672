import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { fleetProtocol, MIXED_EVENTS_PROTOCOL, QUEUE_NAME } from '@app/contracts';
import { CONFIG, Logger } from '@app/infra';
import { type Queue } from 'bullmq';
import { type ApiEnv } from '../config.js';

/**
 * The job protocol every worker of the queue takes (WORKER_PROTOCOL): the lowest that the connected workers declare
 * in their names, read from Redis's client list at start and every WORKER_PROTOCOL_CHECK_MS. 0 (each kind's own jobs
 * only) while no worker is connected, when one declares none (an earlier version), or when the list cannot be read.
 * A job that only newer workers know is sent only while the whole fleet takes it.
 */
@Injectable()
export class WorkerProtocol implements OnModuleInit, OnApplicationShutdown {
  private lowest = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Reads started; only the latest one's answer is kept (reads may overlap). */
  private reads = 0;
  private unreadable = false;
  private readonly log: Logger;

  constructor(
    @InjectQueue(QUEUE_NAME) private readonly queue: Queue,
    @Inject(CONFIG) private readonly env: ApiEnv,
    logger: Logger,
  ) {
    this.log = logger.child('worker-protocol');
  }

  onModuleInit(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.env.WORKER_PROTOCOL_CHECK_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Whether every worker takes jobs carrying events of several kinds (MIXED_EVENTS). */
  get takesMixedEvents(): boolean {
    return this.lowest >= MIXED_EVENTS_PROTOCOL;
  }

  /** Reads the workers' names again; answers the protocol they all take. */
  async refresh(): Promise<number> {
    const read = ++this.reads;
    let lowest = 0;
    try {
      lowest = fleetProtocol((await this.queue.getWorkers()).map((w) => w.rawname));
      this.unreadable = false;
    } catch (err) {
      if (!this.unreadable) this.log.warn("the workers' client list cannot be read: single events go as one job per kind", { error: (err as Error).message });
      this.unreadable = true;
    }
    if (read === this.reads) this.lowest = lowest;
    return lowest;
  }
}
