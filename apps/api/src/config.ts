import { keyLimitsSchema } from '@app/contracts';
import { baseEnvSchema, parseEnv } from '@app/infra';
import { z } from 'zod';

/** A variable holding JSON that `schema` accepts; a parse error names the variable like any other. */
const jsonOf = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((v, ctx) => {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(schema);

export const apiEnvSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  ADMIN_API_KEY: z.string({ error: 'required (at least 16 characters)' }).min(16, 'must be at least 16 characters'),
  /** Largest accepted request body (bytes). */
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  /** How often each replica checks Redis for new policy state or config (ms). */
  REFRESH_INTERVAL_MS: z.coerce.number().int().min(20).max(5000).default(200),
  /**
   * Learnt-state changes alone (no config change) recompile a policy at most this often (ms). Recompiling inverts
   * every arm's d×d matrix; the replica's own decisions are folded in locally between recompiles.
   */
  STATE_RECOMPILE_MS: z.coerce.number().int().min(0).max(10_000).default(500),
  /** How often fgts-cdb and ti-ucb replicas read newly learned events from Postgres. */
  SEQUENTIAL_REFRESH_MS: z.coerce.number().int().min(50).max(60_000).default(250),
  /** How long an accepted event id answers "duplicate" from Redis (later retries are still not counted twice). */
  EVENT_DEDUP_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(7 * 86400),
  /** Feedback, pairwise and energy events accepted per decision (more answer 409): one caller cannot flood one decision. */
  MAX_EVENTS_PER_DECISION: z.coerce.number().int().min(1).max(100_000).default(100),
  /** Decisions are enqueued in batches: at most this many, at most this late (ms). */
  DECISION_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
  DECISION_FLUSH_MS: z.coerce.number().int().min(1).max(5000).default(20),
  /**
   * Proxy: the whole upstream call's limit (by default the OpenAI SDK's own, so the router never cuts a call its
   * client would still wait for), and a stream's limit until its first byte (also the wait for a connection).
   */
  PROXY_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(600_000),
  PROXY_TTFT_TIMEOUT_MS: z.coerce.number().int().min(50).max(600_000).default(20_000),
  /**
   * Proxy: connections kept per upstream origin (a request beyond them waits for one), and the share of them the
   * calls of one tenant (a key's owner) may hold at once on this replica; a call over its share tries the next
   * candidate model, and answers 429 when that was all.
   */
  PROXY_UPSTREAM_CONNECTIONS: z.coerce.number().int().min(1).max(65_536).default(512),
  PROXY_TENANT_SHARE: z.coerce.number().gt(0).max(1).default(0.5),
  /** Circuit breaker: consecutive failures that take a model out of routing, and the cool-down before a probe. */
  BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(5),
  BREAKER_COOLDOWN_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** A model's `apiKeyEnv` must start with this: no other variable (ADMIN_API_KEY, DATABASE_URL …) is sent upstream. */
  UPSTREAM_KEY_ENV_PREFIX: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be the start of an environment variable name')
    .default('UPSTREAM_'),
  /** Proxy: largest upstream response read (bytes; not a streamed event stream), and largest single streamed event. */
  PROXY_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(16 * 1024 * 1024),
  PROXY_MAX_SSE_EVENT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(1024 * 1024),
  /**
   * Embeddings policies: longest wait for the embedding of a route request's text (ms), after which the route
   * decides without it (featureSource "fallback"); and the cache of projected contexts by text, bounded in
   * entries and bytes (0 entries: no cache).
   */
  EMBEDDINGS_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(150),
  EMBEDDINGS_CACHE_ENTRIES: z.coerce.number().int().min(0).max(10_000_000).default(50_000),
  EMBEDDINGS_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(16 * 1024 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  /**
   * Single feedback/pairwise/energy events are committed in groups: while traffic is steady a group closes this many
   * ms after its first event, else at the end of the event-loop turn (group-commit.ts); 0: always at the end of the
   * turn; -1: no grouping, one queued job per event.
   */
  INGEST_GROUP_COMMIT_MS: z.coerce.number().int().min(-1).max(1000).default(5),
  /** How often the api reads which job names the connected workers take (their declared protocol). */
  WORKER_PROTOCOL_CHECK_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /** Longest time a client may take to send a whole request (headers and body); 408 and the connection closed after. */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /**
   * Client connections this replica holds open at once; a connection beyond them is closed as soon as it is
   * accepted (counted in router_http_connections_dropped_total), so that a flood of idle sockets cannot use up the
   * file descriptors the api needs for Redis, Postgres and upstreams. 0: no cap.
   */
  MAX_CONNECTIONS: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  /**
   * Postgres lookups of keys this replica does not know yet, per client address (IPv6: per /64) and for all
   * clients together; beyond them such a key answers 429 with Retry-After and costs no query.
   */
  AUTH_LOOKUPS_PER_SECOND: z.coerce.number().min(0.1).max(10_000).default(10),
  AUTH_LOOKUP_BURST: z.coerce.number().int().min(1).max(100_000).default(20),
  AUTH_LOOKUPS_PER_SECOND_TOTAL: z.coerce.number().min(1).max(100_000).default(200),
  /** One info line per request (method, route pattern, status, duration, key id, request id); `false` turns it off. */
  ACCESS_LOG: z.stringbool().default(true),
  /** A configuration file (YAML or JSON: models, policies, keys) applied at start, before the api listens. */
  ROUTER_CONFIG: z.string().optional(),
  /**
   * When set, GET /metrics and GET /health/dependencies need `Authorization: Bearer <METRICS_TOKEN>` (or an admin
   * key); unset, they are open.
   */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Limits every route key is held to where it does not set its own (a JSON object of key limits, e.g.
   * `{"concurrentRequests":32,"eventsPerMinute":60000}`): a tenant's key created without limits is not unlimited.
   * Unset: such keys are not limited.
   */
  KEY_DEFAULT_LIMITS: jsonOf(keyLimitsSchema).optional(),
});
export type ApiEnv = z.infer<typeof apiEnvSchema>;
export const loadApiEnv = (env = process.env) => parseEnv(apiEnvSchema, env, 'api');
