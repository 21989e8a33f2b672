import { z } from 'zod';
import { parseClusterNodes } from './redis-cluster-nodes.js';

/** The Postgres the services, `migrate` and `npm start` use when DATABASE_URL is unset. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Environment shared by the api and the worker. Parsed once at boot; every bad variable is listed. */
export const baseEnvSchema = z.object({
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /**
   * A Redis Cluster instead of REDIS_URL: comma-separated seed nodes, each `host:port` or a
   * `redis[s]://[user:password@]host:port` URL (credentials and TLS the same for all). Unset: one Redis.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const r = parseClusterNodes(v);
      if (typeof r !== 'string') return r;
      ctx.addIssue({ code: 'custom', message: r });
      return z.NEVER;
    }),
  DATABASE_URL: z.string().default(DEFAULT_DATABASE_URL),
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]+$/i)
    .default('rt'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  DATABASE_POOL: z.coerce.number().int().min(1).max(100).default(10),
});
export type BaseEnv = z.infer<typeof baseEnvSchema>;

/**
 * The environment as the schemas read it: a variable set to the empty string counts as unset (it takes its default,
 * or is reported as required), as `VAR=` in an env file or `VAR=${VAR:-}` in compose files mean to leave it alone.
 */
export const setVariables = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));

/** `env` parsed by `schema` (empty variables unset: setVariables); on a bad one, every bad variable named and exit 78. */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, app: string): z.infer<T> {
  const r = schema.safeParse(setVariables(env));
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
  console.error(`${app}: invalid configuration:\n${lines.join('\n')}`);
  process.exit(78);
}
