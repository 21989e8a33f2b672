import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { parseEnv } from '@app/infra';
import { ApiModule } from '../apps/api/src/api.module.js';
import { apiEnvSchema } from '../apps/api/src/config.js';
import { ConfigFileError, ConfigFileService } from '../apps/api/src/config-file/config-file.service.js';
import { formatPlan } from '../apps/api/src/config-file/plan.js';

const USAGE = 'usage: npm run config:apply -- FILE [--dry-run] [--json]';

/**
 * `npm run config:apply -- FILE [--dry-run] [--json]`: applies a configuration file to the database and Redis of
 * this environment (DATABASE_URL, REDIS_URL, …, as the api reads them) through the api's own services, and
 * prints what it created, changed (field by field), left unchanged, and what exists but the file does not name.
 * With --dry-run only the plan is printed. Exit code 1 when the file cannot be applied (every problem listed),
 * 2 on bad arguments. Returns the exit code.
 */
export async function configApply(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void = console.log): Promise<number> {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  const files = argv.filter((a) => !a.startsWith('--'));
  const unknown = [...flags].filter((f) => f !== '--dry-run' && f !== '--json');
  if (files.length !== 1 || unknown.length > 0) {
    out(USAGE);
    return 2;
  }
  const dryRun = flags.has('--dry-run');
  const apiEnv = parseEnv(
    apiEnvSchema,
    {
      ...env,
      // Not served here: the bootstrap key only guards against a file key reusing it, when it is set.
      ADMIN_API_KEY: env.ADMIN_API_KEY || randomBytes(24).toString('hex'),
      ROUTER_CONFIG: undefined,
      LOG_LEVEL: env.LOG_LEVEL || 'warn',
      ACCESS_LOG: 'false',
    },
    'config:apply',
  );
  const app = await NestFactory.createApplicationContext(ApiModule.forRoot(apiEnv), { logger: ['error', 'warn'] });
  try {
    const plan = await app.get(ConfigFileService).applyFile(files[0], { dryRun, secrets: env });
    out(flags.has('--json') ? JSON.stringify({ dryRun, ...plan }, null, 2) : `${dryRun ? 'dry run: nothing applied\n' : ''}${formatPlan(plan)}`);
    return plan.problems.length > 0 ? 1 : 0;
  } catch (e) {
    if (!(e instanceof ConfigFileError)) throw e;
    out(`${e.file}: cannot be applied:\n${e.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    return 1;
  } finally {
    await app.close();
  }
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isMain) {
  configApply(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`config:apply: failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
