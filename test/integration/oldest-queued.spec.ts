import { Worker } from 'bullmq';
import { oldestQueuedAt } from '../../apps/worker/src/oldest-queued.js';
import { usePrivateQueue } from '../support/private-queue.js';

describe('oldestQueuedAt: when the oldest job still held by the queue was queued', () => {
  const { connection, prefix, name, queue: privateQueue } = usePrivateQueue('oldest');

  it('finds waiting, delayed and taken jobs, leaving out the named one, and nothing in an empty queue', async () => {
    const queue = privateQueue();
    expect(await oldestQueuedAt(queue, 'sweep')).toBeUndefined();
    // The sweep's own job, queued first, does not count.
    await queue.add('sweep', {}, { timestamp: 1_000 });
    expect(await oldestQueuedAt(queue, 'sweep')).toBeUndefined();
    await queue.add('events', {}, { timestamp: 5_000 });
    // Delayed for a retry a minute from now (BullMQ counts the delay from the job's timestamp).
    await queue.add('events', {}, { timestamp: 3_000, delay: Date.now() - 3_000 + 60_000 });
    expect(await oldestQueuedAt(queue, 'sweep')).toBe(3_000);
    // Taken by a worker and not finished (its pass still under way): still held.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    const worker = new Worker(name, () => held, { connection, prefix, concurrency: 5 });
    try {
      await queue.add('events', {}, { timestamp: 2_000, priority: 1 });
      for (let i = 0; i < 200 && (await queue.getActiveCount()) < 3; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await queue.getActiveCount()).toBe(3);
      expect(await oldestQueuedAt(queue, 'sweep')).toBe(2_000);
      // A job held longer than the caller allows (stuck, or waiting out an outage) holds the sweep back no further.
      expect(await oldestQueuedAt(queue, 'sweep', 2_500)).toBe(2_500);
    } finally {
      release();
      await worker.close();
    }
    // Done: only the delayed one is left.
    expect(await oldestQueuedAt(queue, 'sweep')).toBe(3_000);
  }, 30_000);
});
