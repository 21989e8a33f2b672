import { baseEnvSchema, parseEnv } from '@app/infra';
import { z } from 'zod';

export const workerEnvSchema = baseEnvSchema.extend({
  /** Jobs in flight per worker process; they are folded into micro-batches of up to WORKER_BATCH_SIZE. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(10000).default(2000),
  WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(4000),
  /** Micro-batches in flight at once per worker process. */
  WORKER_PARALLEL_BATCHES: z.coerce.number().int().min(1).max(16).default(3),
  /**
   * How long the first job of a batch waits for company (ms). Fewer, larger passes cost less per event (each pass
   * rewrites every arm it touches in Redis: ~0.2 ms per arm, ~0.6 ms with a decision's Σxxᵀ): 50 instead of 10 cut
   * the CPU per event across the stack by 8–13 % (`npm run bench:events`), for 40 ms more before an event is learnt.
   */
  WORKER_LINGER_MS: z.coerce.number().int().min(0).max(1000).default(50),
  /** How often one worker sweeps closed feedback windows for policies with a defaultReward (ms). */
  DEFAULT_REWARD_SWEEP_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  /**
   * BullMQ job lock (ms), also the stalled-job check interval: the jobs of a worker that died (SIGKILL, OOM,
   * lost host) go back to the queue within about twice this time.
   */
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  /**
   * While Postgres or Redis is unreachable every worker stops taking jobs; a batch is tried again after this
   * long (ms), so learning resumes within about this time of the service's return.
   */
  WORKER_OUTAGE_PROBE_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
  /** Port of the worker's probes and metrics (GET /health/live, /health/ready, /metrics); unset = none. */
  WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  WORKER_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  /** When set, the worker's GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});
export type WorkerEnv = z.infer<typeof workerEnvSchema>;
export const loadWorkerEnv = (env = process.env) => parseEnv(workerEnvSchema, env, 'worker');
