import { type EventRow } from '../events.repository.js';

/** A model-level energy reading (no decision): `joules` over `outputTokens` of `model`, received at `at` (ms). */
export const modelReading = (id: string, model: string, joules: number, outputTokens: number, at: number): EventRow => ({
  id,
  kind: 'energy',
  decisionId: null,
  policy: null,
  epoch: null,
  arm: null,
  status: 'model',
  reward: null,
  joules,
  inputTokens: null,
  outputTokens,
  latencyMs: null,
  model,
  payload: null,
  receivedAt: at,
});
