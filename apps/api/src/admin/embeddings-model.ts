import { type Model, type PolicyConfig } from '@app/contracts';
import { DomainError } from '@app/errors';

/**
 * An embeddings policy's `features.model` must be a registered model with a baseUrl (its `/embeddings` is what
 * the routes call): 400 naming `features.model` otherwise. Other sources pass.
 */
export function assertEmbeddingsModel(features: PolicyConfig['features'], registered: readonly Model[]): void {
  if (features.source !== 'embeddings') return;
  const m = registered.find((r) => r.id === features.model);
  const problem = !m ? 'not a registered model (PUT /admin/models/{id} first)' : !m.baseUrl ? 'the model has no baseUrl to call /embeddings on' : null;
  if (problem) throw new DomainError('VALIDATION', `embeddings model ${features.model}: ${problem}`, [{ path: 'features.model', message: problem }]);
}

/** The prior endpoint does not embed records yet: 400 for an embeddings policy, before any record is read. */
export function assertPriorSupported(p: { name: string; features: PolicyConfig['features'] }): void {
  if (p.features.source === 'embeddings')
    throw new DomainError('VALIDATION', `policy ${p.name} takes embeddings features: warm-start priors are not supported for them yet`, [
      { path: 'records', message: 'embeddings policies take no prior yet' },
    ]);
}
