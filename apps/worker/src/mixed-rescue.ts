import { fleetProtocol, MIXED_EVENTS, MIXED_EVENTS_PROTOCOL } from '@app/contracts';
import { type Queue } from 'bullmq';

/** How a worker of an earlier version fails a job whose name it does not know. */
const UNKNOWN_TO_OLDER_WORKER = `unknown job name ${MIXED_EVENTS.name}`;

/**
 * Jobs carrying events of several kinds that a worker of an earlier version failed because it does not know their
 * name (it took one in the moments before the api saw it connected), put back into the queue once every connected
 * worker takes them, so that a rolling upgrade or rollback does not leave their events unlearnt. Reads only the ids
 * of the failed set (in pages of `page`), and loads only the jobs whose id marks them as such jobs; answers how
 * many it put back.
 */
export async function retryMixedJobsFailedByOlderWorkers(queue: Queue, page = 1000): Promise<number> {
  if ((await queue.getFailedCount()) === 0) return 0;
  if (fleetProtocol((await queue.getWorkers()).map((w) => w.rawname)) < MIXED_EVENTS_PROTOCOL) return 0;
  const candidates: string[] = [];
  for (let start = 0; ; start += page) {
    const ids = await queue.getRanges(['failed'], start, start + page - 1);
    candidates.push(...ids.filter((id) => id.startsWith(`${MIXED_EVENTS.idPrefix}_`)));
    if (ids.length < page) break;
  }
  let retried = 0;
  for (const id of candidates) {
    const job = await queue.getJob(id);
    if (job?.name !== MIXED_EVENTS.name || !job.failedReason?.includes(UNKNOWN_TO_OLDER_WORKER)) continue;
    // Another worker may have put it back meanwhile (BullMQ then refuses: it is no longer failed).
    if (
      await job.retry('failed').then(
        () => true,
        () => false,
      )
    )
      retried++;
  }
  return retried;
}
