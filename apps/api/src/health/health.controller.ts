import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get, Inject, Res } from '@nestjs/common';
import { QUEUE_NAME } from '@app/contracts';
import { REDIS, SQL } from '@app/infra';
import { type Sql } from '@app/persistence';
import { type Queue } from 'bullmq';
import { type FastifyReply } from 'fastify';
import { type Redis } from 'ioredis';
import { DecisionFlusher } from '../routing/decision-flusher.service.js';
import { OwedHotCopies } from '../routing/owed-hot-copies.service.js';
import { PolicyCache } from '../routing/policy-cache.service.js';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms))]);

@Controller('health')
export class HealthController {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SQL) private readonly sql: Sql,
    @InjectQueue(QUEUE_NAME) private readonly queue: Queue,
    private readonly cache: PolicyCache,
    private readonly flusher: DecisionFlusher,
    private readonly owed: OwedHotCopies,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** 200 when Redis, Postgres and the queue answer; 503 with each check otherwise (routing may still work). */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const check = async (fn: () => Promise<unknown>) => {
      try {
        await withTimeout(fn(), 1000);
        return { ok: true };
      } catch (e) {
        return { ok: false, error: (e as Error).message };
      }
    };
    const [redis, postgres, queue] = await Promise.all([
      check(() => this.redis.ping()),
      check(() => this.sql`select 1`),
      check(async () => ({ waiting: await this.queue.getWaitingCount() })),
    ]);
    const ok = redis.ok && postgres.ok && queue.ok;
    void reply.status(ok ? 200 : 503);
    return {
      status: ok ? 'ok' : 'degraded',
      checks: { redis, postgres, queue },
      routing: { policies: this.cache.policyNames().length, lastRefreshMsAgo: this.cache.lastRefreshOk ? Date.now() - this.cache.lastRefreshOk : null },
      decisionsBuffered: this.flusher.pending,
      hotCopiesOwed: this.owed.size,
    };
  }
}
