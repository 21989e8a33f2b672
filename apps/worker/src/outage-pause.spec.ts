import { Writable } from 'node:stream';
import { Logger } from '@app/infra';
import { OutagePause } from './outage-pause.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

function setup(pauseQueue: (ms: number) => Promise<void>, narrowed: boolean[] = []) {
  const lines: { level: string; msg: string; pausedForMs?: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  let t = 1000;
  const clock = { advance: (ms: number) => (t += ms) };
  const pause = new OutagePause(
    pauseQueue,
    750,
    new Logger('worker', 'info', sink),
    (n) => void narrowed.push(n),
    () => t,
  );
  return { pause, lines, clock };
}

describe('OutagePause', () => {
  it('pauses the queue for a backing-service outage, takes one job at a time meanwhile, and logs its start and end once each', async () => {
    const calls: number[] = [];
    const narrowed: boolean[] = [];
    const { pause, lines, clock } = setup(async (ms) => void calls.push(ms), narrowed);
    expect(await pause.onFailure(refused)).toBe(true);
    expect(await pause.onFailure(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    clock.advance(4200);
    pause.onSuccess();
    pause.onSuccess();
    expect(calls).toEqual([750, 750]);
    expect(narrowed).toEqual([true, false]); // narrowed once at the start, widened once at the end
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(lines[1].pausedForMs).toBe(4200);
  });

  it('leaves any other failure to the job retry (a bug or bad data does not stop the queue)', async () => {
    const calls: number[] = [];
    const narrowed: boolean[] = [];
    const { pause, lines } = setup(async (ms) => void calls.push(ms), narrowed);
    expect(await pause.onFailure(new Error('duplicate key value violates unique constraint'))).toBe(false);
    expect(await pause.onFailure(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
    expect(await pause.onFailure('not even an error')).toBe(false);
    expect(calls).toEqual([]);
    expect(narrowed).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('falls back to the job retry when the pause itself cannot be set (Redis away too)', async () => {
    const { pause, lines } = setup(async () => {
      throw new Error('Connection is closed.');
    });
    expect(await pause.onFailure(refused)).toBe(false);
    expect(lines).toEqual([]);
  });
});
