import { Writable } from 'node:stream';
import { Logger } from './logger.js';

describe('logger (pino)', () => {
  it('writes JSON lines with level, time, name and message, and never prompt text or secrets', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const log = new Logger('router', 'info', sink).child('proxy');
    log.debug('hidden below the level');
    log.warn('upstream failed', {
      model: 'small',
      input: 'my secret prompt',
      authorization: 'Bearer sk-123',
      req: { messages: [{ content: 'hi there' }], apiKey: 'k' },
    });
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]);
    expect(rec).toMatchObject({
      level: 'warn',
      name: 'router.proxy',
      msg: 'upstream failed',
      model: 'small',
      input: '[redacted]',
      authorization: '[redacted]',
    });
    expect(rec.req).toEqual({ messages: '[redacted]', apiKey: '[redacted]' });
    expect(typeof rec.time).toBe('string');
    expect(lines[0]).not.toContain('secret prompt');
    expect(lines[0]).not.toContain('sk-123');
    expect(lines[0]).not.toContain('hi there');
  });
});
