import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { REDIS_URL } from './harness.js';

/** The events queue's name, as the service names it. */
const NAME = 'router-events';

/**
 * A BullMQ queue of the service's name under a prefix of this suite's own on the shared Redis, made before the
 * suite's tests and removed with everything in it after them. `queue()` is the queue once made.
 */
export function usePrivateQueue(stem: string) {
  const connection = { url: REDIS_URL };
  const prefix = `${stem}${randomUUID().slice(0, 8)}`;
  let queue: Queue | undefined;
  beforeAll(async () => {
    queue = new Queue(NAME, { connection, prefix });
    await queue.waitUntilReady();
  });
  afterAll(async () => {
    await queue?.obliterate({ force: true });
    await queue?.close();
  });
  return { connection, prefix, name: NAME, queue: () => queue! };
}
