import { type Queue } from 'bullmq';

/** Jobs looked at per state: the oldest few (a job's events were received before the job was queued). */
const LOOKED_AT = 5;

/**
 * When the oldest job still in the queue (waiting, delayed for a retry, or taken by a worker and not finished) was
 * queued, leaving out `except` (the sweep's own jobs); undefined when there is none. The events it carries were
 * received before that: a feedback event still in the queue may have been received within a decision's window
 * while the sweep, which sees only what Postgres holds, finds the decision unanswered.
 */
export async function oldestQueuedAt(queue: Queue, except: string): Promise<number | undefined> {
  const ids = await queue.getRanges(['active', 'waiting', 'prioritized', 'delayed'], 0, LOOKED_AT - 1, true);
  if (ids.length === 0) return undefined;
  const client = await queue.getBackend().client;
  const fields = await Promise.all(ids.map((id) => client.hmget(queue.toKey(id), 'name', 'timestamp')));
  let oldest: number | undefined;
  for (const [name, timestamp] of fields) {
    const at = Number(timestamp);
    if (name === except || name === null || !Number.isFinite(at)) continue;
    oldest = Math.min(oldest ?? at, at);
  }
  return oldest;
}
