import { APIConnectionError, InternalServerError, BadRequestError } from 'openai';
import { ClientGone, classify, TtftTimeout, UpstreamClients } from './upstream.js';
import { ResponseTooLarge } from './too-large.js';
import { KeyEnvRefused, keyEnvRefusal, upstreamKey, withAllowedKeyEnv } from './upstream-key.js';

const live = () => new AbortController().signal;
const aborted = (reason: unknown) => {
  const ac = new AbortController();
  ac.abort(reason);
  return ac.signal;
};

describe('classify: only real upstream failures count toward the breaker', () => {
  it('retries (and so blames the model for) network errors, timeouts, 5xx, 429 and 408', () => {
    expect(classify(new APIConnectionError({ cause: new Error('ECONNRESET') }), live(), false).next).toBe('retry');
    expect(classify(new Error('aborted'), aborted(new TtftTimeout()), false)).toMatchObject({ next: 'retry', reason: 'ttft' });
    expect(classify(new Error('aborted'), aborted(new Error('timeout')), true)).toMatchObject({ next: 'retry', reason: 'timeout' });
    expect(classify(new InternalServerError(500, undefined, 'x', new Headers()), live(), false)).toMatchObject({ next: 'retry', status: 500 });
    // The body broke after the status line arrived: the upstream's fault.
    expect(classify(new Error('terminated'), live(), true)).toMatchObject({ next: 'retry', reason: 'connection' });
  });

  it('relays another 4xx', () => {
    expect(classify(new BadRequestError(400, { message: 'no' }, 'no', new Headers()), live(), false)).toMatchObject({
      next: 'relay',
      status: 400,
      body: { message: 'no' },
    });
  });

  it('does not blame the model for an error building the request here, a refused key, a body over the limit or a gone client', () => {
    const overflow = new RangeError('Maximum call stack size exceeded');
    expect(classify(overflow, live(), false)).toMatchObject({ next: 'stop', reason: 'local', cause: overflow });
    expect(classify(new KeyEnvRefused('DATABASE_URL', keyEnvRefusal('DATABASE_URL', 'UPSTREAM_')!), live(), false)).toMatchObject({
      next: 'skip',
      reason: 'config',
    });
    expect(classify(new ResponseTooLarge('response', 'PROXY_MAX_RESPONSE_BYTES', 10), live(), true)).toMatchObject({
      next: 'stop',
      reason: 'too-large',
      message: 'upstream response exceeded PROXY_MAX_RESPONSE_BYTES (10 bytes)',
    });
    expect(classify(new Error('aborted'), aborted(new ClientGone('the client went away')), true)).toMatchObject({ next: 'stop', reason: 'client' });
  });
});

describe('upstream key variables', () => {
  const env = { UPSTREAM_A: 'key-a', ADMIN_API_KEY: 'admin-secret' };

  it('reads only variables with the prefix', () => {
    expect(keyEnvRefusal('UPSTREAM_A', 'UPSTREAM_')).toBeNull();
    expect(keyEnvRefusal('ADMIN_API_KEY', 'UPSTREAM_')).toContain('must start with UPSTREAM_');
    expect(upstreamKey('UPSTREAM_A', 'UPSTREAM_', env)).toBe('key-a');
    expect(upstreamKey(undefined, 'UPSTREAM_', env)).toBeUndefined();
    expect(() => upstreamKey('ADMIN_API_KEY', 'UPSTREAM_', env)).toThrow(KeyEnvRefused);
    expect(() => upstreamKey('ADMIN_API_KEY', 'UPSTREAM_', env)).not.toThrow(/admin-secret/);
  });

  it('a key variable that is not set is a configuration failure naming it, never a made-up key', () => {
    expect(() => upstreamKey('UPSTREAM_MISSING', 'UPSTREAM_', env)).toThrow(/apiKeyEnv UPSTREAM_MISSING is not set/);
    expect(() => upstreamKey('UPSTREAM_EMPTY', 'UPSTREAM_', { ...env, UPSTREAM_EMPTY: '' })).toThrow(KeyEnvRefused);
    expect(classify(new KeyEnvRefused('UPSTREAM_MISSING', 'is not set'), live(), false)).toMatchObject({ next: 'skip', reason: 'config' });
  });

  it('a model config naming another variable is a 400 on apiKeyEnv', () => {
    expect(withAllowedKeyEnv({ apiKeyEnv: 'UPSTREAM_A' }, 'UPSTREAM_')).toEqual({ apiKeyEnv: 'UPSTREAM_A' });
    expect(withAllowedKeyEnv({}, 'UPSTREAM_')).toEqual({});
    expect(() => withAllowedKeyEnv({ apiKeyEnv: 'DATABASE_URL' }, 'UPSTREAM_')).toThrow(
      expect.objectContaining({ code: 'VALIDATION', errors: [expect.objectContaining({ path: 'apiKeyEnv' })] }),
    );
  });

  it('the clients refuse such a model at call time, also when a client for its base URL exists', () => {
    const clients = new UpstreamClients({ timeoutMs: 1000, keyEnvPrefix: 'UPSTREAM_', maxResponseBytes: 1024 });
    expect(clients.get({ id: 'm', baseUrl: 'http://127.0.0.1:9/v1', enabled: true })).toBeDefined();
    expect(() => clients.get({ id: 'm', baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'ADMIN_API_KEY', enabled: true })).toThrow(KeyEnvRefused);
  });
});
