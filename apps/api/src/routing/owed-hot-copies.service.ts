import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type DecisionRecord, OldestKeys } from '@app/contracts';
import { CONFIG } from '@app/infra';
import { DecisionHotStore } from '@app/store';
import { type ApiEnv } from '../config.js';

const MAX_OWED = 200_000;

/**
 * Decisions routed while Redis was away have no hot copy, and their durable record is still in this replica's
 * flush buffer, so feedback posted right after the outage would find them nowhere (404, and the client gives
 * up). They are kept here, readable by id (feedback to this replica joins them at once), and their hot copies
 * are written as soon as Redis answers again (checked every DECISION_FLUSH_MS), so other replicas find them too.
 */
@Injectable()
export class OwedHotCopies implements OnModuleInit, OnApplicationShutdown {
  private readonly owed = new Map<string, { rec: DecisionRecord; ttlSeconds: number }>();
  private readonly oldest = new OldestKeys(this.owed);
  private timer: NodeJS.Timeout | null = null;
  private writing = false;
  dropped = 0;

  constructor(
    private readonly hot: DecisionHotStore,
    @Inject(CONFIG) private readonly env: ApiEnv,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.writeAll().catch(() => undefined), this.env.DECISION_FLUSH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  get size(): number {
    return this.owed.size;
  }

  add(rec: DecisionRecord, ttlSeconds: number): void {
    if (this.owed.size >= MAX_OWED) {
      this.owed.delete(this.oldest.next());
      this.dropped++;
    }
    this.owed.set(rec.id, { rec, ttlSeconds });
  }

  get(id: string): DecisionRecord | undefined {
    return this.owed.get(id)?.rec;
  }

  /** Writes one owed hot copy now (feedback is about to be queued for it); throws while Redis is away. */
  async settle(id: string): Promise<void> {
    const e = this.owed.get(id);
    if (!e) return;
    await this.hot.put(e.rec, e.ttlSeconds);
    this.owed.delete(id);
  }

  private async writeAll(): Promise<void> {
    if (this.writing || this.owed.size === 0) return;
    this.writing = true;
    try {
      const all = [...this.owed];
      for (let i = 0; i < all.length; i += 100)
        await Promise.all(
          all.slice(i, i + 100).map(async ([id, e]) => {
            await this.hot.put(e.rec, e.ttlSeconds);
            this.owed.delete(id);
          }),
        );
    } finally {
      this.writing = false;
    }
  }
}
