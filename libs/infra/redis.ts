import { Cluster, type ClusterOptions, Redis } from 'ioredis';
import { type BaseEnv } from './config.js';

/** A connection to one Redis or to a Redis Cluster: the same commands, routed by key slot on a cluster. */
export type RedisClient = Redis | Cluster;

/** The part of the configuration that says where Redis is (REDIS_CLUSTER_NODES, when set, wins over REDIS_URL). */
export type RedisTarget = Pick<BaseEnv, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>;

export interface RedisConnectOptions {
  /**
   * Commands fail at once while Redis is unreachable instead of waiting for it (the api answers from its copy or
   * with 503 and must not hang). Otherwise they wait in an offline queue until Redis is back (the worker).
   */
  failFast?: boolean;
  /** Commands issued in the same tick go out as one pipeline (on a cluster, one per node). */
  autoPipelining?: boolean;
  lazyConnect?: boolean;
  connectionName?: string;
}

export const isCluster = (r: RedisClient): r is Cluster => (r as Partial<Cluster>).isCluster === true;

/** Options of the client as a whole, and of each node connection (on one Redis both go to the same constructor). */
function optionsFor(o: RedisConnectOptions) {
  return {
    client: { enableOfflineQueue: !o.failFast, enableAutoPipelining: o.autoPipelining ?? false, lazyConnect: o.lazyConnect ?? false },
    node: { maxRetriesPerRequest: o.failFast ? 1 : null, ...(o.connectionName ? { connectionName: o.connectionName } : {}) },
  };
}

/**
 * The one place Redis connections are made (api, worker, BullMQ, tools and tests): a `Cluster` when
 * REDIS_CLUSTER_NODES is set, else a `Redis` on REDIS_URL.
 */
export function createRedis(target: RedisTarget, opts: RedisConnectOptions = {}): RedisClient {
  const { client, node } = optionsFor(opts);
  const c = target.REDIS_CLUSTER_NODES;
  if (!c) return new Redis(target.REDIS_URL, { ...client, ...node });
  const options: ClusterOptions = {
    ...client,
    // Managed TLS clusters announce node names their certificates carry: connect to them as announced.
    ...(c.tls ? { dnsLookup: (address: string, cb: (err: null, address: string) => void) => cb(null, address) } : {}),
    redisOptions: { ...node, username: c.username, password: c.password, tls: c.tls ? {} : undefined },
  };
  return new Cluster(c.nodes, options);
}

/**
 * Another connection to what `r` is connected to (same nodes and credentials), with other options: e.g. a
 * subscriber, which cannot share its connection with ordinary commands.
 */
export function duplicateRedis(r: RedisClient, opts: RedisConnectOptions): RedisClient {
  const { client, node } = optionsFor(opts);
  // Cluster.duplicate takes startup nodes first and per-node options apart; its options merge shallowly.
  if (isCluster(r)) return r.duplicate(undefined, { ...client, redisOptions: { ...r.options.redisOptions, ...node } });
  return r.duplicate({ ...client, ...node });
}
