import { type JobType, type Queue } from 'bullmq';

/** Jobs looked at per state, the oldest first; delayed jobs are ordered by when they run, so more of them. */
const LOOKED_AT: Partial<Record<JobType, number>> = { active: 5, waiting: 5, prioritized: 5, delayed: 200 };

/**
 * When the oldest job still in the queue (waiting, delayed for a retry, or taken by a worker and not finished) was
 * queued, leaving out jobs named `except` (the sweep's own), and taking a job queued before `notBefore` as queued
 * then (held that long, it is stuck or waits out an outage, and must not hold everything back for longer);
 * undefined when there is none. The
 * events a job carries were received before it was queued: a feedback event still in the queue may have been
 * received within a decision's window while the sweep, which sees only what Postgres holds, finds the decision
 * unanswered.
 */
export async function oldestQueuedAt(queue: Queue, except: string, notBefore = -Infinity): Promise<number | undefined> {
  const ids = (await Promise.all(Object.entries(LOOKED_AT).map(([state, n]) => queue.getRanges([state as JobType], 0, n - 1, true)))).flat();
  if (ids.length === 0) return undefined;
  const client = await queue.getBackend().client;
  const fields = await Promise.all(ids.map((id) => client.hmget(queue.toKey(id), 'name', 'timestamp')));
  let oldest: number | undefined;
  for (const [name, timestamp] of fields) {
    const at = Number(timestamp);
    if (name === except || name === null || !Number.isFinite(at)) continue;
    // One held too long counts as queued at `notBefore`: younger jobs behind it may not have been looked at.
    oldest = Math.min(oldest ?? Infinity, Math.max(at, notBefore));
  }
  return oldest;
}
