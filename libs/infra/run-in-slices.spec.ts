import { type Steps } from '@app/bandits';
import { runInSlices } from './run-in-slices.js';

/** Ten steps of about 1 ms of CPU each. */
function* busySteps(): Steps<string> {
  for (let i = 0; i < 10; i++) {
    const until = performance.now() + 1;
    while (performance.now() < until);
    yield;
  }
  return 'done';
}

/** Counts the turns other work gets while `run` goes on (a callback queued again on every turn). */
async function turnsDuring<T>(run: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let stop = false;
  const tick = () => {
    if (stop) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const result = await run();
  stop = true;
  return { result, turns };
}

describe('runInSlices', () => {
  it('lets other work run between slices, and none with an infinite slice; the result and the CPU time either way', async () => {
    const sliced = await turnsDuring(() => runInSlices(busySteps(), 2));
    const whole = await turnsDuring(() => runInSlices(busySteps(), Infinity));
    expect([sliced.result.value, whole.result.value]).toEqual(['done', 'done']);
    // 10 ms of work in 2 ms slices: at least four chances for other work in between (timers are coarse on a loaded machine).
    expect(sliced.turns).toBeGreaterThanOrEqual(4);
    expect(whole.turns).toBe(0);
    expect(sliced.result.busyMs).toBeGreaterThanOrEqual(9.5);
    expect(whole.result.busyMs).toBeGreaterThanOrEqual(9.5);
  });

  it('stops at the next slice once its signal aborts, with the reason it aborted with', async () => {
    const ac = new AbortController();
    let ran = 0;
    function* counted(): Steps<string> {
      for (let i = 0; i < 10; i++) {
        ran++;
        if (i === 2) ac.abort(new Error('client gone'));
        const until = performance.now() + 1;
        while (performance.now() < until);
        yield;
      }
      return 'done';
    }
    await expect(runInSlices(counted(), 0.5, ac.signal)).rejects.toThrow('client gone');
    expect(ran).toBeLessThan(10);
  });
});
