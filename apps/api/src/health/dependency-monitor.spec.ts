import { Writable } from 'node:stream';
import { Logger } from '@app/infra';
import { DependencyMonitor } from './dependency-monitor.js';

function logLines() {
  const lines: { level: string; msg: string; dependency?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, log: new Logger('health', 'info', sink) };
}

describe('DependencyMonitor', () => {
  it('records state, latency, transitions (logged once each) and keeps the last error after recovery', async () => {
    let up = true;
    const { lines, log } = logLines();
    const m = new DependencyMonitor(
      { db: async () => (up ? { n: 1 } : Promise.reject(new Error('connect ECONNREFUSED'))) },
      { intervalMs: 1000, timeoutMs: 200 },
      log,
    );
    let s = await m.snapshot();
    expect(s.db).toMatchObject({ ok: true, details: { n: 1 }, lastError: null, consecutiveFailures: 0 });
    const upSince = s.db.since;
    up = false;
    await m.check();
    await m.check();
    s = await m.snapshot();
    expect(s.db).toMatchObject({ ok: false, consecutiveFailures: 2, lastError: { message: 'connect ECONNREFUSED' }, details: { n: 1 } });
    expect(s.db.since).toBeGreaterThanOrEqual(upSince!);
    const downSince = s.db.since;
    up = true;
    await m.check();
    s = await m.snapshot();
    expect(s.db).toMatchObject({ ok: true, consecutiveFailures: 0, lastError: { message: 'connect ECONNREFUSED' } });
    expect(s.db.since).toBeGreaterThanOrEqual(downSince!);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'dependency unavailable'],
      ['info', 'dependency available again'],
    ]);
  });

  it('fails a check that does not answer in time, and starts no second call while one is still pending', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const hanging = () => (++calls === 1 ? new Promise<void>((r) => (release = r)) : Promise.resolve()); // the first call hangs
    const m = new DependencyMonitor({ pg: hanging }, { intervalMs: 1000, timeoutMs: 50 });
    const t = Date.now();
    await m.check();
    expect(Date.now() - t).toBeLessThan(1000);
    expect((await m.snapshot()).pg).toMatchObject({ ok: false, lastError: { message: 'no answer within 50 ms' } });
    await m.check();
    await m.check();
    expect(calls).toBe(1); // a black-holed host cannot pile calls up in a connection pool
    expect((await m.snapshot()).pg.lastError?.message).toMatch(/^previous check still unanswered after \d+ ms$/);
    release();
    await new Promise((r) => setImmediate(r));
    await m.check();
    expect(calls).toBe(2);
    expect((await m.snapshot()).pg.ok).toBe(true);
  });

  it('checkNow shares one round among concurrent callers and reuses a round younger than maxAgeMs', async () => {
    let calls = 0;
    const m = new DependencyMonitor(
      {
        redis: async () => {
          calls++;
          await new Promise((r) => setTimeout(r, 20));
        },
      },
      { intervalMs: 1000, timeoutMs: 500 },
    );
    await Promise.all(Array.from({ length: 10 }, () => m.checkNow()));
    expect(calls).toBe(1);
    await m.checkNow(10_000);
    expect(calls).toBe(1);
    await m.checkNow(0);
    expect(calls).toBe(2);
  });
});
