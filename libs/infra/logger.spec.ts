import { Writable } from 'node:stream';
import { Logger } from './logger.js';
import { NestJsonLogger } from './nest-logger.js';
import { enterRequest } from './request-context.js';

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
    // One `name` key per line (JSON.parse keeps the last of duplicates, so count them in the text).
    expect(lines[0].match(/"name":/g)).toHaveLength(1);
  });
});

describe('request context in log records', () => {
  const capture = () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    return { lines, sink };
  };

  it('names the request being served in every record, across awaits, and nothing outside one', async () => {
    const { lines, sink } = capture();
    const log = new Logger('router', 'info', sink).child('x');
    log.info('before');
    await new Promise<void>((resolve) =>
      enterRequest('req-1', () => {
        void (async () => {
          log.info('inside');
          await new Promise((r) => setTimeout(r, 1));
          log.warn('after an await');
          log.info('explicit wins', { requestId: 'given' });
          resolve();
        })();
      }),
    );
    log.info('after');
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
      ['before', undefined],
      ['inside', 'req-1'],
      ['after an await', 'req-1'],
      ['explicit wins', 'given'],
      ['after', undefined],
    ]);
  });

  it("writes Nest's own messages as JSON records with their context; route chatter below info", () => {
    const { lines, sink } = capture();
    const nest = new NestJsonLogger(new Logger('router', 'info', sink).child('nest'));
    nest.log('Mapped {/v1/route, POST} route', 'RouterExplorer');
    nest.warn('something odd', 'InstanceLoader');
    nest.error('boom', 'Error: boom\n    at x', 'ExceptionHandler');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', name: 'router.nest', msg: 'something odd', context: 'InstanceLoader' }),
      expect.objectContaining({ level: 'error', msg: 'boom', context: 'ExceptionHandler', stack: 'Error: boom\n    at x' }),
    ]);
  });
});
