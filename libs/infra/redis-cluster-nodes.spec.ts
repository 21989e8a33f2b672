import { baseEnvSchema } from './config.js';
import { parseClusterNodes } from './redis-cluster-nodes.js';

describe('REDIS_CLUSTER_NODES', () => {
  it('is one Redis (REDIS_URL) when unset or blank', () => {
    expect(parseClusterNodes(undefined)).toBeUndefined();
    expect(parseClusterNodes(' ')).toBeUndefined();
  });

  it('reads host:port lists and URLs with shared credentials and TLS', () => {
    expect(parseClusterNodes('10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002')).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    expect(parseClusterNodes('rediss://app:p%40ss@a.example:6380,rediss://app:p%40ss@b.example:6380,c.example')).toEqual({
      nodes: [
        { host: 'a.example', port: 6380 },
        { host: 'b.example', port: 6380 },
        { host: 'c.example', port: 6379 },
      ],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
  });

  it('names what is wrong', () => {
    expect(parseClusterNodes('redis://a:1,rediss://b:2')).toMatch(/same scheme and credentials/);
    expect(parseClusterNodes('redis://a:1/2')).toMatch(/database 0/);
    expect(parseClusterNodes('http://a:1')).toMatch(/redis:\/\//);
    expect(parseClusterNodes('a:notaport')).toMatch(/neither/);
    expect(parseClusterNodes(',,')).toMatch(/at least one/);
  });

  it('is parsed once with the rest of the environment, every bad variable listed', () => {
    expect(baseEnvSchema.parse({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }).REDIS_CLUSTER_NODES?.nodes).toEqual([{ host: '127.0.0.1', port: 7000 }]);
    const r = baseEnvSchema.safeParse({ REDIS_CLUSTER_NODES: 'redis://a:1/3', DATABASE_POOL: '0' });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['DATABASE_POOL', 'REDIS_CLUSTER_NODES']);
  });
});
