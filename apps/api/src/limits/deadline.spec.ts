import { spawn } from 'node:child_process';
import { connect } from 'node:net';
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
    // An echo from another process over a real socket, as Redis answers: it arrives while this thread is held, and
    // is read in the event loop's poll phase, after the due timers.
    const echo = spawn(process.execPath, [
      '-e',
      // 'd' is answered 250 ms late.
      "const s = require('node:net').createServer((c) => c.on('data', (d) => setTimeout(() => c.write(d), String(d) === 'd' ? 250 : 0))); s.listen(0, '127.0.0.1', () => console.log(s.address().port));",
    ]);
    const port = await new Promise<number>((r) => echo.stdout.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
    const client = connect(port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    try {
      // Held far past the deadline, and just past it (not late enough to count as held: the answer is read first).
      for (const held of [400, 105, 115]) {
        const answer = new Promise<string>((r) => client.once('data', () => r('answered')));
        client.write('x');
        const checked = withinDeadline(answer, 100);
        hold(held); // the deadline is due when the thread is free again, before the answer is read
        await expect(checked).resolves.toBe('answered');
      }
      // Held 200 ms, the answer still on its way (250 ms): the deadline, late, waits another 100 ms for it.
      const answer = new Promise<string>((r) => client.once('data', () => r('answered')));
      client.write('d');
      const checked = withinDeadline(answer, 100);
      hold(200);
      await expect(checked).resolves.toBe('answered');
    } finally {
      client.destroy();
      echo.kill();
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
