import { isDependencyDown } from './dependency-down.js';

const err = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('isDependencyDown', () => {
  it('knows connection failures of Postgres and Redis, by code or by the message of a client without one', () => {
    expect(isDependencyDown(err('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(true);
    expect(isDependencyDown(err('terminating connection due to administrator command', '57P01'))).toBe(true);
    expect(isDependencyDown(err('write CONNECTION_CLOSED', 'CONNECTION_CLOSED'))).toBe(true);
    expect(isDependencyDown(err('Connection is closed.'))).toBe(true);
    expect(isDependencyDown(err('CLUSTERDOWN The cluster is down'))).toBe(true);
  });

  it('never takes Postgres answering for an outage, whatever its message quotes', () => {
    expect(isDependencyDown(err('invalid input syntax for type json: "Connection is closed"', '22P02'))).toBe(false);
    expect(isDependencyDown(err('value "CLUSTERDOWN" violates check constraint', '23514'))).toBe(false);
    expect(isDependencyDown(err('deadlock detected', '40P01'))).toBe(false);
    expect(isDependencyDown(err('syntax error'))).toBe(false);
    expect(isDependencyDown('Connection is closed.')).toBe(false);
  });
});
