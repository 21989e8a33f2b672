import { KeyQueue } from './key-queue.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyQueue: one task at a time per key', () => {
  it('runs the tasks of a key in submission order, never two at once, while other keys run alongside', async () => {
    const q = new KeyQueue();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const task = (name: string, steps: number) => async () => {
      running++;
      most = Math.max(most, running);
      log.push(`${name}+`);
      for (let i = 0; i < steps; i++) await tick();
      log.push(`${name}-`);
      running--;
      return name;
    };
    const a = [q.run('k', task('a1', 3)), q.run('k', task('a2', 1)), q.run('k', task('a3', 2))];
    const b = q.run('other', task('b1', 1));
    expect(await Promise.all([...a, b])).toEqual(['a1', 'a2', 'a3', 'b1']);
    const onK = log.filter((e) => e.startsWith('a'));
    expect(onK).toEqual(['a1+', 'a1-', 'a2+', 'a2-', 'a3+', 'a3-']);
    expect(log.indexOf('b1+')).toBeLessThan(log.indexOf('a1-')); // the other key did not wait
    expect(most).toBe(2);
    await tick();
    expect(q.busyKeys).toBe(0);
  });

  it("a failing task rejects its own caller only; the key's next task still runs", async () => {
    const q = new KeyQueue();
    const first = q.run('k', async () => {
      await tick();
      throw new Error('boom');
    });
    const second = q.run('k', async () => 'ran');
    await expect(first).rejects.toThrow('boom');
    await expect(second).resolves.toBe('ran');
    await tick();
    expect(q.busyKeys).toBe(0);
  });
});
