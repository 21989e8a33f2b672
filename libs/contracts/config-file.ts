import { z } from 'zod';
import { id } from './finite.js';
import { createKeySchema } from './keys.js';
import { modelConfigSchema } from './model.js';
import { policyConfigSchema } from './policy.js';
import { isRouterName, ROUTER_NAME_TAKEN } from './route.js';

const envName = (what: string) => z.string().regex(/^[A-Z_][A-Z0-9_]*$/, `${what} must be an environment variable name`);

/** Longest handle of a key in a configuration file: its stored id is `cfg:<handle>:<8 hex>`, at most 128 characters. */
export const MAX_KEY_HANDLE = 100;

/**
 * A key of a configuration file: what POST /admin/keys takes, plus the environment variable holding its token
 * (stored hashed, like a generated secret), so the same file and environment give the same keys.
 */
export const configKeySchema = createKeySchema.safeExtend({
  tokenEnv: envName('tokenEnv').describe('environment variable holding the key’s token (at least 16 characters)'),
});
export type ConfigKey = z.infer<typeof configKeySchema>;

/**
 * The declarative configuration file (ROUTER_CONFIG, `npm run config:apply`): models by id, policies by name, keys
 * by handle, each validated by the schema of its admin endpoint. What the file does not name is left alone.
 */
export const routerConfigSchema = z.strictObject({
  models: z
    .record(
      id('model id').refine((m) => !isRouterName(m), ROUTER_NAME_TAKEN),
      modelConfigSchema,
    )
    .default({}),
  policies: z.record(id('policy name'), policyConfigSchema).default({}),
  keys: z.record(id('key handle').max(MAX_KEY_HANDLE, `key handle is at most ${MAX_KEY_HANDLE} characters`), configKeySchema).default({}),
});
export type RouterConfig = z.infer<typeof routerConfigSchema>;
