import { MIXED_EVENTS, mixedJobPayload, WORKER_PROTOCOL, workerNameFor } from '@app/contracts';
import { type Job, type Queue, UnrecoverableError, Worker } from 'bullmq';
import { retryMixedJobsFailedByOlderWorkers } from '../../apps/worker/src/mixed-rescue.js';
import { REDIS_URL } from '../support/harness.js';
import { usePrivateQueue } from '../support/private-queue.js';

const connection = { url: REDIS_URL };
const data = mixedJobPayload([
  { kind: 'feedback', data: { eventId: 'admin|f', decisionId: 'dec_a', reward: 1, receivedAt: 1 } },
  { kind: 'energy', data: { eventId: 'admin|e', decisionId: 'dec_a', joules: 3, receivedAt: 1 } },
]);

/** A worker as an earlier version ran it: no declared protocol, fails a job name it does not know. */
const olderWorker = (name: string, prefix: string) =>
  new Worker(
    name,
    async (job: Job) => {
      throw new UnrecoverableError(`unknown job name ${job.name}`);
    },
    { connection, prefix },
  );

const until = async (ok: () => Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 25));
};

describe('jobs carrying several kinds that a worker of an earlier version failed', () => {
  const { prefix, name, queue: privateQueue } = usePrivateQueue('rescue');
  let queue: Queue;
  beforeAll(() => (queue = privateQueue()));

  it('go back to the queue once every connected worker takes them, and not before', async () => {
    const older = olderWorker(name, prefix);
    const job = await queue.add(MIXED_EVENTS.name, data, { jobId: 'evb_x', attempts: 5 });
    const other = await queue.add('feedback', {}, { jobId: 'fb_y' });
    await until(async () => (await job.getState()) === 'failed' && (await other.getState()) === 'failed');
    expect(await job.getState()).toBe('failed');
    // The older worker is still connected: putting the job back would only fail it again.
    expect(await retryMixedJobsFailedByOlderWorkers(queue)).toBe(0);
    await older.close();

    // A worker of this version (declared protocol; paused, so the job stays where the rescue puts it).
    const current = new Worker(name, async () => undefined, { connection, prefix, name: workerNameFor(WORKER_PROTOCOL), autorun: false });
    await current.waitUntilReady();
    void current.run();
    await current.pause();
    try {
      await until(async () => (await queue.getWorkers()).length === 1);
      expect(await retryMixedJobsFailedByOlderWorkers(queue)).toBe(1);
      expect(await job.getState()).toBe('waiting');
      // Only that job: one failed for any other reason or of another name stays failed.
      expect(await other.getState()).toBe('failed');
      expect(await retryMixedJobsFailedByOlderWorkers(queue)).toBe(0);
    } finally {
      await current.close();
    }
  }, 30_000);
});
