import { type Model, type Principal } from '@app/contracts';
import { DomainError } from '@app/errors';

/** The arms of a policy the api knows, or undefined for a policy it does not know. */
export type ArmsOf = (policy: string) => readonly string[] | undefined;

/** A model that can be called at all: enabled, with an upstream. */
const callable = (m: Model | undefined): m is Model & { baseUrl: string } => m !== undefined && m.enabled !== false && typeof m.baseUrl === 'string';

/**
 * Whether `caller` may call `model` directly (`"model": "<id>"` on /v1/chat/completions or /v1/embeddings, no routing). The model
 * must be enabled and have a `baseUrl`. Admin keys and route keys without a policy list may call every such
 * model; a key restricted to policies may call only the arms of those policies (what routing could have sent it
 * to anyway), so a restricted key reaches no upstream its policies do not use.
 */
export function mayCallModel(caller: Principal, model: Model | undefined, armsOf: ArmsOf): model is Model & { baseUrl: string } {
  return callable(model) && modelInScope(caller, model.id, armsOf);
}

/**
 * Whether a model is within `caller`'s reach: every model for admin keys and keys without a policy list, only the
 * arms of its policies for a key restricted to policies (direct calls; model-level energy readings).
 */
export function modelInScope(caller: Principal, model: string, armsOf: ArmsOf): boolean {
  if (caller.scope === 'admin' || caller.policies === null) return true;
  return caller.policies.some((p) => armsOf(p)?.includes(model) === true);
}

/** The models `caller` may call directly, sorted by id. */
export function callableModels(caller: Principal, models: Iterable<Model>, armsOf: ArmsOf): Model[] {
  return [...models].filter((m) => mayCallModel(caller, m, armsOf)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The answer for a model id that does not exist, cannot be called (disabled, no `baseUrl`) or that the key may
 * not call: one answer for all, so a restricted key cannot probe the registry.
 */
export const directModelNotFound = (id: string) =>
  new DomainError('MODEL_NOT_FOUND', `model ${id} does not exist or this key may not call it`, [{ path: 'model', message: 'unknown model' }]);
