import { startupFailureRecord } from './startup-failure.js';

describe('startup failure record', () => {
  it('is one JSON record naming the error and, when it has them, the fields at fault', () => {
    const err = Object.assign(new Error('configuration file f.yaml: keys.bad.tokenEnv: X is not set'), {
      name: 'ConfigFileError',
      problems: [{ path: 'keys.bad.tokenEnv', message: 'X is not set' }],
    });
    const rec = startupFailureRecord('router.api', err, new Date(0));
    expect(rec).toEqual({
      level: 'fatal',
      time: '1970-01-01T00:00:00.000Z',
      name: 'router.api',
      msg: 'failed to start',
      error: err.message,
      errorName: 'ConfigFileError',
      problems: [{ path: 'keys.bad.tokenEnv', message: 'X is not set' }],
    });
    expect(JSON.parse(JSON.stringify(startupFailureRecord('router.worker', 'boom')))).toMatchObject({ error: 'boom', errorName: 'Error' });
    expect(startupFailureRecord('router.worker', new Error('x'))).not.toHaveProperty('problems');
  });
});
