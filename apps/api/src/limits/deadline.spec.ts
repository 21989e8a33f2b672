import { createServer, connect, type AddressInfo } from 'node:net';
import { withinDeadline } from './deadline.js';

const after = <T>(ms: number, v: T) => new Promise<T>((r) => setTimeout(() => r(v), ms));
/** Holds the thread, as a costly request does. */
const hold = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end);
};

describe('withinDeadline: a deadline on a responsive event loop', () => {
  it('answers what settles in time, and rejects what does not', async () => {
    await expect(withinDeadline(after(10, 'ok'), 100)).resolves.toBe('ok');
    await expect(withinDeadline(after(300, 'late'), 100)).rejects.toThrow('no answer within 100 ms');
  });

  it('does not give up when its own thread was held past the deadline while the answer came', async () => {
    // An echo over a real socket, as Redis answers: read in the event loop's poll phase, after the due timers.
    const server = createServer((s) => s.on('data', (d) => s.write(d)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    try {
      const answer = new Promise<string>((r) => client.once('data', () => r('answered')));
      client.write('x');
      const checked = withinDeadline(answer, 100);
      hold(400); // the deadline is due when the thread is free again, before the answer is read
      await expect(checked).resolves.toBe('answered');
    } finally {
      client.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('still gives up when nothing comes, however often the thread was held', async () => {
    const never = new Promise<string>(() => undefined);
    const checked = withinDeadline(never, 50);
    hold(200);
    const t0 = Date.now();
    await expect(checked).rejects.toThrow('no answer within 50 ms');
    expect(Date.now() - t0).toBeLessThan(50 * 8 + 200);
  });
});
