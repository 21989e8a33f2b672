/** Where a Redis Cluster is: its seed nodes (ioredis discovers the rest) and what every node needs to connect. */
export interface RedisClusterConfig {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

/**
 * Parses REDIS_CLUSTER_NODES: comma-separated `host:port` or `redis[s]://[user:password@]host:port` entries (IPv6
 * hosts in brackets). Returns undefined for an unset or blank value (one Redis, REDIS_URL), else the cluster, or a
 * message saying what is wrong. Every entry must carry the same credentials and scheme, and no database number
 * (a cluster has only database 0).
 */
export function parseClusterNodes(raw: string | undefined): RedisClusterConfig | undefined | string {
  if (raw === undefined || raw.trim() === '') return undefined;
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  let shared: Omit<RedisClusterConfig, 'nodes'> | undefined;
  const nodes: RedisClusterConfig['nodes'] = [];
  for (const entry of entries) {
    // Error messages name the entry without its credentials (they are printed at boot).
    const shown = entry.replace(/\/\/[^@/]*@/, '//***@');
    let u: URL;
    try {
      u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `redis://${entry}`);
    } catch {
      return `"${shown}" is neither host:port nor a redis:// URL`;
    }
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return `"${shown}": only redis:// and rediss:// are supported`;
    if (u.pathname.length > 1 && u.pathname !== '/0') return `"${shown}": a Redis Cluster has only database 0`;
    const port = u.port === '' ? 6379 : Number(u.port);
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    if (host === '') return `"${shown}" has no host`;
    const own = {
      username: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      tls: u.protocol === 'rediss:',
    };
    // Bare host:port entries take the credentials of the URL entries.
    const bare = !/^[a-z][a-z0-9+.-]*:\/\//i.test(entry);
    if (!bare) {
      if (shared && (shared.username !== own.username || shared.password !== own.password || shared.tls !== own.tls))
        return 'every entry must use the same scheme and credentials';
      shared = own;
    }
    nodes.push({ host, port });
  }
  if (nodes.length === 0) return 'give at least one host:port';
  return { nodes, ...(shared ?? { tls: false }) };
}
