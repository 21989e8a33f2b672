import 'reflect-metadata';
import { exitOnStartupFailure } from '@app/infra';
import { createApi } from './src/bootstrap.js';
import { loadApiEnv } from './src/config.js';

try {
  const env = loadApiEnv();
  const app = await createApi(env);
  await app.listen(env.PORT, env.HOST);
  process.stdout.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), name: 'router.api', msg: 'api listening', port: env.PORT })}\n`);
} catch (err) {
  exitOnStartupFailure('router.api')(err);
}
