import { type CreateKeyInput } from '@app/contracts';
import { DomainError } from '@app/errors';
import { BOOTSTRAP_OWNER } from '../auth/key-resolver.js';

/**
 * A key's name is its owner, and `admin` is the bootstrap admin key's: a route or telemetry key of that name would
 * share its decisions, event ids and breaker counts. Only admin keys may take it (a key created through the api or
 * planned from a configuration file).
 */
export function assertOwnerName(k: Pick<CreateKeyInput, 'name' | 'scope'>): void {
  if (k.name === BOOTSTRAP_OWNER && k.scope !== 'admin')
    throw new DomainError('VALIDATION', `the name ${BOOTSTRAP_OWNER} is the bootstrap admin key's owner: only an admin key may take it`, [
      { path: 'name', message: `reserved for admin keys` },
    ]);
}
