import { setVariables } from '@app/infra';
import { apiEnvSchema, loadApiEnv } from './api/src/config.js';
import { loadWorkerEnv, workerEnvSchema } from './worker/src/config.js';

/** How the services read their environment: a variable set to the empty string is the same as one not set. */
describe('the environment as the services read it', () => {
  const admin = { ADMIN_API_KEY: 'a'.repeat(16) };

  it('takes an empty variable as unset: numbers, URLs and names get their defaults', () => {
    const empty = {
      PORT: '',
      MAX_CONNECTIONS: '',
      STATE_RECOMPILE_MS: '',
      INGEST_GROUP_COMMIT_MS: '',
      EMBEDDINGS_CACHE_ENTRIES: '',
      DATABASE_URL: '',
      REDIS_URL: '',
      HOST: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      METRICS_TOKEN: '',
      KEY_DEFAULT_LIMITS: '',
      ROUTER_CONFIG: '',
    };
    // As the api and the worker load it at start.
    const api = loadApiEnv({ ...admin, ...empty });
    expect(api).toEqual(apiEnvSchema.parse(admin));
    expect([api.PORT, api.MAX_CONNECTIONS, api.STATE_RECOMPILE_MS, api.HOST, api.DATABASE_URL]).toEqual([
      3000,
      10_000,
      500,
      '0.0.0.0',
      'postgres://postgres@127.0.0.1:5432/postgres',
    ]);
    expect(api.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    const worker = loadWorkerEnv({ WORKER_LINGER_MS: '', WORKER_HTTP_PORT: '', REDIS_CLUSTER_NODES: '', METRICS_TOKEN: '' });
    expect(worker).toEqual(workerEnvSchema.parse({}));
    expect(worker.WORKER_LINGER_MS).toBe(50);
  });

  it('still refuses a required variable left empty, and a set value that is out of range, naming each', () => {
    const r = apiEnvSchema.safeParse(setVariables({ ADMIN_API_KEY: '', PORT: '0x', BODY_LIMIT_BYTES: '10' }));
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['PORT', expect.any(String)],
      ['ADMIN_API_KEY', 'required (at least 16 characters)'],
      ['BODY_LIMIT_BYTES', expect.any(String)],
    ]);
  });
});
