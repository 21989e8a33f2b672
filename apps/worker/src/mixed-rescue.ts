import { fleetProtocol, MIXED_EVENTS, MIXED_EVENTS_PROTOCOL } from '@app/contracts';
import { type Queue } from 'bullmq';

/** How a worker of an earlier version fails a job whose name it does not know. */
const UNKNOWN_TO_OLDER_WORKER = `unknown job name ${MIXED_EVENTS.name}`;

/**
 * Jobs carrying events of several kinds that a worker of an earlier version failed because it does not know their
 * name (it took one in the moments before the api saw it connected), put back into the queue once every connected
 * worker takes them, so that a rolling upgrade or rollback loses none of their events. Looks at the newest `limit`
 * failed jobs; answers how many it put back.
 */
export async function retryMixedJobsFailedByOlderWorkers(queue: Queue, limit = 1000): Promise<number> {
  if ((await queue.getFailedCount()) === 0) return 0;
  if (fleetProtocol((await queue.getWorkers()).map((w) => w.rawname)) < MIXED_EVENTS_PROTOCOL) return 0;
  const failed = await queue.getFailed(0, limit - 1);
  const mixed = failed.filter((j) => j?.name === MIXED_EVENTS.name && j.failedReason?.includes(UNKNOWN_TO_OLDER_WORKER));
  for (const job of mixed) await job.retry('failed');
  return mixed.length;
}
