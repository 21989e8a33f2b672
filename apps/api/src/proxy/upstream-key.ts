import { type ModelConfig } from '@app/contracts';
import { DomainError } from '@app/errors';

/**
 * Only environment variables whose names start with the configured prefix (UPSTREAM_KEY_ENV_PREFIX) may be sent
 * to an upstream as a model's key: an admin who controls a model's `baseUrl` must not be able to read
 * ADMIN_API_KEY, DATABASE_URL or any other secret of the process by naming it as `apiKeyEnv`.
 */
export function keyEnvRefusal(name: string, prefix: string): string | null {
  return name.startsWith(prefix) ? null : `must start with ${prefix}: only such variables are sent to an upstream`;
}

/**
 * A model's key variable cannot be used (outside the prefix, or not set in this replica's environment): its
 * upstream is not called (a configuration failure, named in the answer), never called with a made-up key.
 */
export class KeyEnvRefused extends Error {
  constructor(name: string, why: string) {
    super(`apiKeyEnv ${name} ${why}`);
    this.name = 'KeyEnvRefused';
  }
}

/** The model config as given, or a 400 naming `apiKeyEnv` when it names a variable outside the prefix. */
export function withAllowedKeyEnv<T extends Pick<ModelConfig, 'apiKeyEnv'>>(config: T, prefix: string): T {
  const refusal = config.apiKeyEnv === undefined ? null : keyEnvRefusal(config.apiKeyEnv, prefix);
  if (refusal) throw new DomainError('VALIDATION', 'invalid body', [{ path: 'apiKeyEnv', message: refusal }]);
  return config;
}

/** The value of the model's key variable (checked against the prefix, and set), or undefined when it names none. */
export function upstreamKey(apiKeyEnv: string | undefined, prefix: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (apiKeyEnv === undefined) return undefined;
  const refusal = keyEnvRefusal(apiKeyEnv, prefix);
  if (refusal) throw new KeyEnvRefused(apiKeyEnv, refusal);
  const key = env[apiKeyEnv];
  if (key === undefined || key === '') throw new KeyEnvRefused(apiKeyEnv, "is not set in this replica's environment");
  return key;
}
