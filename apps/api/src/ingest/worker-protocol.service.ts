import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { fleetProtocol, MIXED_EVENTS_PROTOCOL, QUEUE_NAME } from '@app/contracts';
import { CONFIG } from '@app/infra';
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

  constructor(
    @InjectQueue(QUEUE_NAME) private readonly queue: Queue,
    @Inject(CONFIG) private readonly env: ApiEnv,
  ) {}

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
    try {
      this.lowest = fleetProtocol((await this.queue.getWorkers()).map((w) => w.rawname));
    } catch {
      this.lowest = 0;
    }
    return this.lowest;
  }
}
