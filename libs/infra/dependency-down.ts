const CONNECTION_CODES = new Set([
  // Node sockets (ioredis and postgres.js)
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  // postgres.js
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  // Postgres: admin_shutdown, cannot_connect_now (starting up or shutting down)
  '57P01',
  '57P03',
]);

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * A connection-level failure of Redis (ioredis) or Postgres (postgres.js): an outage of a backing service, not
 * a bug or bad data. The api answers it with 503 + Retry-After; the worker pauses the queue and retries.
 */
export function isDependencyDown(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  // Any other SQLSTATE is Postgres answering: never an outage, whatever its message quotes (a value of a tenant's).
  if (typeof code === 'string' && SQLSTATE.test(code)) return false;
  // ioredis, and on a Redis Cluster: a slot without a master (CLUSTERDOWN), no node reachable, slots moving.
  return /enableOfflineQueue|Connection is closed|max retries per request|Stream isn't writeable|CLUSTERDOWN|Failed to refresh slots cache|None of startup nodes|Too many Cluster redirections/i.test(
    e.message,
  );
}
