import {
  budgetPatchSchema,
  evaluateRequestSchema,
  frontierRequestSchema,
  revertRequestSchema,
  chatRequestSchema,
  embeddingsRequestSchema,
  createKeySchema,
  patchKeySchema,
  energyBatchSchema,
  energySchema,
  feedbackBatchSchema,
  feedbackSchema,
  pairwiseSchema,
  modelConfigSchema,
  modelPatchSchema,
  objectivePatchSchema,
  policyConfigSchema,
  priorRequestSchema,
  routeRequestSchema,
  continueRequestSchema,
  continueResponseSchema,
  auditTrailSchema,
  batchAckSchema,
  createdKeySchema,
  eventAckSchema,
  healthSchema,
  modelEntrySchema,
  modelsListSchema,
  keyListSchema,
  keyResponseSchema,
  modelListSchema,
  modelResponseSchema,
  modelWithBreakerSchema,
  policyListSchema,
  policyPutResponseSchema,
  policyResponseSchema,
  policyStatsSchema,
  rebuildResponseSchema,
  routeResponseSchema,
  chatCompletionSchema,
  embeddingsResponseSchema,
  deadLetterListSchema,
  energyReadingListSchema,
  energyReadingRemovedSchema,
  evaluationResponseSchema,
  frontierResponseSchema,
  keyUsageResponseSchema,
  timeseriesResponseSchema,
} from '@app/contracts';
import { z } from 'zod';

type Op = {
  method: string;
  path: string;
  summary: string;
  scope?: 'route' | 'telemetry' | 'admin';
  body?: z.ZodType;
  ok: number;
  /** The OpenAI-compatible paths answer errors in OpenAI's envelope instead of problem+json. */
  openAiErrors?: true;
};

/** Every endpoint, with its request schema: the zod schemas used at the edge are the single source. */
const OPS: Op[] = [
  { method: 'post', path: '/v1/route', summary: 'Choose a model for a request', scope: 'route', body: routeRequestSchema, ok: 200 },
  {
    method: 'post',
    path: '/v1/route/{decisionId}/continue',
    summary: "Cascade step: the routed model's answer → accept it, or escalate to the model named (policies with cascade)",
    scope: 'route',
    body: continueRequestSchema,
    ok: 200,
  },
  {
    method: 'post',
    path: '/v1/chat/completions',
    summary: 'OpenAI-compatible chat completions; model "router/<policy>" (routed) or a model id the key may call (direct); stream: true relays SSE',
    scope: 'route',
    body: chatRequestSchema,
    ok: 200,
    openAiErrors: true,
  },
  {
    method: 'post',
    path: '/v1/embeddings',
    summary: 'OpenAI-compatible embeddings of a model id the key may call (a direct call: embeddings are not routed)',
    scope: 'route',
    body: embeddingsRequestSchema,
    ok: 200,
    openAiErrors: true,
  },
  {
    method: 'get',
    path: '/v1/models',
    summary: 'router/<policy> entries the key may use, then the models it may call directly (OpenAI list format)',
    scope: 'route',
    ok: 200,
    openAiErrors: true,
  },
  {
    method: 'get',
    path: '/v1/models/{id}',
    summary: "One entry of /v1/models (a router's id holds a slash: router/<policy>); 404 for one the key cannot call",
    scope: 'route',
    ok: 200,
    openAiErrors: true,
  },
  { method: 'post', path: '/v1/feedback', summary: 'Thumb or reward for a decision', scope: 'route', body: feedbackSchema, ok: 202 },
  { method: 'post', path: '/v1/feedback/pairwise', summary: 'Which model of a duel won (or a tie)', scope: 'route', body: pairwiseSchema, ok: 202 },
  { method: 'post', path: '/v1/feedback/batch', summary: 'Up to 1000 feedback events', scope: 'route', body: feedbackBatchSchema, ok: 202 },
  {
    method: 'post',
    path: '/v1/energy',
    summary: 'Measured energy of a decision (route or telemetry key), or of a model with token counts (telemetry or admin key)',
    scope: 'telemetry',
    body: energySchema,
    ok: 202,
  },
  { method: 'post', path: '/v1/energy/batch', summary: 'Up to 1000 energy readings', scope: 'telemetry', body: energyBatchSchema, ok: 202 },
  {
    method: 'get',
    path: '/admin/energy-readings',
    summary: 'Model-level energy readings, newest first (?model, ?limit, ?before, ?beforeId)',
    scope: 'admin',
    ok: 200,
  },
  { method: 'delete', path: '/admin/energy-readings/{id}', summary: "Take a model-level reading out of its model's energy estimate", scope: 'admin', ok: 200 },
  { method: 'get', path: '/admin/dead-letters', summary: 'Events set aside because Postgres refused their data (?policy, ?limit)', scope: 'admin', ok: 200 },
  { method: 'post', path: '/admin/keys', summary: 'Create an API key (secret returned once)', scope: 'admin', body: createKeySchema, ok: 201 },
  { method: 'get', path: '/admin/keys', summary: 'List keys', scope: 'admin', ok: 200 },
  { method: 'delete', path: '/admin/keys/{id}', summary: 'Revoke a key', scope: 'admin', ok: 204 },
  {
    method: 'get',
    path: '/admin/keys/{id}/usage',
    summary: "A key's calls per model in a window (?from&to, ISO 8601; default the last 24 hours): requests, tokens, cost, energy",
    scope: 'admin',
    ok: 200,
  },
  { method: 'patch', path: '/admin/keys/{id}', summary: "Replace a key's limits (null removes them)", scope: 'admin', body: patchKeySchema, ok: 200 },
  { method: 'put', path: '/admin/models/{id}', summary: 'Create or replace a model (an arm)', scope: 'admin', body: modelConfigSchema, ok: 200 },
  {
    method: 'patch',
    path: '/admin/models/{id}',
    summary: 'Set some fields of a model, keep the others (404 for an unknown model)',
    scope: 'admin',
    body: modelPatchSchema,
    ok: 200,
  },
  { method: 'get', path: '/admin/models', summary: 'List models', scope: 'admin', ok: 200 },
  { method: 'get', path: '/admin/models/{id}', summary: 'Get a model', scope: 'admin', ok: 200 },
  { method: 'delete', path: '/admin/models/{id}', summary: 'Delete a model (409 while a policy uses it)', scope: 'admin', ok: 204 },
  { method: 'put', path: '/admin/policies/{name}', summary: 'Create or replace a policy', scope: 'admin', body: policyConfigSchema, ok: 200 },
  { method: 'get', path: '/admin/policies', summary: 'List policies', scope: 'admin', ok: 200 },
  { method: 'get', path: '/admin/policies/{name}', summary: 'Get a policy', scope: 'admin', ok: 200 },
  { method: 'delete', path: '/admin/policies/{name}', summary: 'Delete a policy', scope: 'admin', ok: 204 },
  {
    method: 'patch',
    path: '/admin/policies/{name}/objective',
    summary: 'Change the trade-off weights (audited)',
    scope: 'admin',
    body: objectivePatchSchema,
    ok: 200,
  },
  {
    method: 'patch',
    path: '/admin/policies/{name}/budget',
    summary: 'Set (or with null remove) the mean spend per request the policy paces to (audited)',
    scope: 'admin',
    body: budgetPatchSchema,
    ok: 200,
  },
  {
    method: 'post',
    path: '/admin/policies/{name}/objective/revert',
    summary: 'Undo the objective change of one audit entry (audited)',
    scope: 'admin',
    body: revertRequestSchema,
    ok: 200,
  },
  {
    method: 'post',
    path: '/admin/policies/{name}/evaluate',
    summary: 'Off-policy estimate of a candidate trade-off on the logged decisions (read-only)',
    scope: 'admin',
    body: evaluateRequestSchema,
    ok: 200,
  },
  {
    method: 'post',
    path: '/admin/policies/{name}/frontier',
    summary: 'Off-policy estimates along one weight (read-only)',
    scope: 'admin',
    body: frontierRequestSchema,
    ok: 200,
  },
  {
    method: 'get',
    path: '/admin/policies/{name}/timeseries',
    summary: 'Per bucket and model: decisions, reward, energy, cost, latency, fallbacks (?from&to&bucket)',
    scope: 'admin',
    ok: 200,
  },
  { method: 'get', path: '/admin/policies/{name}/stats', summary: 'Learning statistics per arm', scope: 'admin', ok: 200 },
  { method: 'get', path: '/admin/policies/{name}/audit', summary: 'Audit trail of the policy', scope: 'admin', ok: 200 },
  {
    method: 'post',
    path: '/admin/policies/{name}/prior',
    summary: 'Install a warm-start prior fitted on offline records (PILOT)',
    scope: 'admin',
    body: priorRequestSchema,
    ok: 200,
  },
  { method: 'delete', path: '/admin/policies/{name}/prior', summary: 'Remove the warm-start prior', scope: 'admin', ok: 200 },
  { method: 'post', path: '/admin/policies/{name}/reset', summary: 'Clear learning state, keep config', scope: 'admin', ok: 200 },
  { method: 'post', path: '/admin/policies/{name}/rebuild', summary: 'Recompute learning state from the durable log', scope: 'admin', ok: 200 },
  { method: 'get', path: '/health/live', summary: 'Liveness', ok: 200 },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics (text format)', ok: 200 },
  {
    method: 'get',
    path: '/health/ready',
    summary: 'Readiness: 200 while this replica can route (body names degraded dependencies), 503 before its first policy copy or while stopping',
    ok: 200,
  },
  {
    method: 'get',
    path: '/health/dependencies',
    summary: 'Per-dependency report (Redis, Postgres, queue): state, latency, last error; METRICS_TOKEN or admin key when that token is set',
    ok: 200,
  },
];

/** A stable name per operation (generated clients name their methods after it). */
const OPERATION_IDS: Record<string, string> = {
  'post /v1/route': 'route',
  'post /v1/route/{decisionId}/continue': 'continueCascade',
  'post /v1/chat/completions': 'chatCompletions',
  'post /v1/embeddings': 'createEmbeddings',
  'get /v1/models': 'listRouterModels',
  'get /v1/models/{id}': 'getRouterModel',
  'post /v1/feedback': 'postFeedback',
  'post /v1/feedback/pairwise': 'postPairwiseFeedback',
  'post /v1/feedback/batch': 'postFeedbackBatch',
  'post /v1/energy': 'postEnergy',
  'post /v1/energy/batch': 'postEnergyBatch',
  'get /admin/energy-readings': 'listEnergyReadings',
  'delete /admin/energy-readings/{id}': 'removeEnergyReading',
  'get /admin/dead-letters': 'listDeadLetters',
  'post /admin/keys': 'createKey',
  'get /admin/keys': 'listKeys',
  'patch /admin/keys/{id}': 'patchKey',
  'get /admin/keys/{id}/usage': 'getKeyUsage',
  'delete /admin/keys/{id}': 'revokeKey',
  'put /admin/models/{id}': 'putModel',
  'patch /admin/models/{id}': 'patchModel',
  'get /admin/models': 'listModels',
  'get /admin/models/{id}': 'getModel',
  'delete /admin/models/{id}': 'deleteModel',
  'put /admin/policies/{name}': 'putPolicy',
  'get /admin/policies': 'listPolicies',
  'get /admin/policies/{name}': 'getPolicy',
  'delete /admin/policies/{name}': 'deletePolicy',
  'patch /admin/policies/{name}/objective': 'patchObjective',
  'patch /admin/policies/{name}/budget': 'patchBudget',
  'post /admin/policies/{name}/objective/revert': 'revertObjective',
  'post /admin/policies/{name}/evaluate': 'evaluatePolicy',
  'post /admin/policies/{name}/frontier': 'policyFrontier',
  'get /admin/policies/{name}/timeseries': 'policyTimeseries',
  'get /admin/policies/{name}/stats': 'policyStats',
  'get /admin/policies/{name}/audit': 'policyAudit',
  'post /admin/policies/{name}/prior': 'installPrior',
  'delete /admin/policies/{name}/prior': 'removePrior',
  'post /admin/policies/{name}/reset': 'resetPolicy',
  'post /admin/policies/{name}/rebuild': 'rebuildPolicy',
  'get /health/live': 'live',
  'get /metrics': 'metrics',
  'get /health/ready': 'ready',
  'get /health/dependencies': 'dependencies',
};

/** The group an operation is listed under, from its path. */
export function tagOf(path: string): string {
  const [, root, section] = path.split('/');
  if (root === 'v1') return section === 'feedback' ? 'feedback' : section === 'energy' ? 'energy' : section === 'route' ? 'routing' : 'proxy';
  if (root === 'admin') return section === 'energy-readings' || section === 'dead-letters' ? 'readings' : section;
  return 'operations';
}

/** Success bodies, from the contracts' response schemas (every 2xx but 204 has one: openapi.spec.ts checks). */
const RESPONSES: Record<string, z.ZodType> = {
  'post /v1/route': routeResponseSchema,
  'post /v1/route/{decisionId}/continue': continueResponseSchema,
  'post /v1/feedback': eventAckSchema,
  'post /v1/feedback/pairwise': eventAckSchema,
  'post /v1/energy': eventAckSchema,
  'post /v1/feedback/batch': batchAckSchema,
  'post /v1/energy/batch': batchAckSchema,
  'post /admin/keys': createdKeySchema,
  'get /admin/keys': keyListSchema,
  'patch /admin/keys/{id}': keyResponseSchema,
  'put /admin/models/{id}': modelResponseSchema,
  'patch /admin/models/{id}': modelResponseSchema,
  'get /admin/models': modelListSchema,
  'get /admin/models/{id}': modelWithBreakerSchema,
  'put /admin/policies/{name}': policyPutResponseSchema,
  'get /admin/policies': policyListSchema,
  'get /admin/policies/{name}': policyResponseSchema,
  'patch /admin/policies/{name}/objective': policyResponseSchema,
  'patch /admin/policies/{name}/budget': policyResponseSchema,
  'post /admin/policies/{name}/objective/revert': policyResponseSchema,
  'post /admin/policies/{name}/prior': policyResponseSchema,
  'delete /admin/policies/{name}/prior': policyResponseSchema,
  'post /admin/policies/{name}/reset': policyResponseSchema,
  'post /admin/policies/{name}/rebuild': rebuildResponseSchema,
  'get /admin/policies/{name}/stats': policyStatsSchema,
  'get /admin/policies/{name}/audit': auditTrailSchema,
  'get /health/live': healthSchema,
  'get /health/ready': healthSchema,
  'get /health/dependencies': healthSchema,
  'get /v1/models': modelsListSchema,
  'get /v1/models/{id}': modelEntrySchema,
  'post /v1/chat/completions': chatCompletionSchema,
  'post /v1/embeddings': embeddingsResponseSchema,
  'get /admin/energy-readings': energyReadingListSchema,
  'delete /admin/energy-readings/{id}': energyReadingRemovedSchema,
  'get /admin/dead-letters': deadLetterListSchema,
  'get /admin/keys/{id}/usage': keyUsageResponseSchema,
  'post /admin/policies/{name}/evaluate': evaluationResponseSchema,
  'post /admin/policies/{name}/frontier': frontierResponseSchema,
  'get /admin/policies/{name}/timeseries': timeseriesResponseSchema,
};

/** Answers in another media type than JSON: instead of (/metrics) or besides (a streamed completion) the JSON body. */
const OTHER_CONTENT: Record<string, Record<string, { schema: Record<string, unknown> }>> = {
  'get /metrics': { 'text/plain': { schema: { type: 'string', description: 'Prometheus text format 0.0.4' } } },
  'post /v1/chat/completions': {
    'text/event-stream': {
      schema: {
        type: 'string',
        description: "stream: true: the upstream's chat.completion.chunk events (`data: {…}`, `model` rewritten), ending with `data: [DONE]`",
      },
    },
  },
};

/** Operations that also answer 201: a PUT that created what it names. */
const ALSO_CREATED = new Set(['put /admin/policies/{name}']);

/** Event intake: the `Idempotency-Key` header names the event when the body gives no `eventId`. */
const IDEMPOTENT = new Set(['post /v1/feedback', 'post /v1/feedback/pairwise', 'post /v1/feedback/batch', 'post /v1/energy', 'post /v1/energy/batch']);
const idempotencyKeyParam = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'the event id when the body has no eventId (a batch: the prefix of its items\' ids); a retry with the same id is answered "duplicate" and never counted twice',
  schema: { type: 'string', maxLength: 128 },
};

/** Headers of a proxied answer: which decision and model served it. */
const ROUTER_HEADERS = {
  'x-router-decision-id': { description: 'the decision (routed calls): post feedback against it', schema: { type: 'string' } },
  'x-router-model': { description: 'the model that answered (after a fallback, not the one first chosen)', schema: { type: 'string' } },
  'x-router-models': {
    description: "a cascade policy's non-streamed answers: the models called, in order, comma-separated (the last one's answer is returned)",
    schema: { type: 'string' },
  },
};

const retryAfter = { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' } } };

const problem = {
  description: 'RFC 9457 problem',
  content: {
    'application/problem+json': {
      schema: {
        type: 'object',
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
        },
      },
    },
  },
};

const openAiError = {
  description: "OpenAI's error envelope",
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: {
              message: { type: 'string' },
              type: {
                type: 'string',
                description: 'invalid_request_error, authentication_error, permission_error, not_found_error, rate_limit_error, api_error',
              },
              param: { type: ['string', 'null'], description: 'the field at fault' },
              code: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
  },
};

/** Every request may name its id; every answer (errors too) carries the one used. */
const requestIdParam = {
  name: 'x-request-id',
  in: 'header',
  required: false,
  description: 'kept if 1–128 characters of A-Z a-z 0-9 . _ : @ = + / -, else replaced by a generated id; echoed on the response',
  schema: { type: 'string', maxLength: 128 },
};

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPS) {
    const key = `${op.method} ${op.path}`;
    const params = [
      ...[...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      requestIdParam,
      ...(IDEMPOTENT.has(key) ? [idempotencyKeyParam] : []),
    ];
    const error = op.openAiErrors ? openAiError : problem;
    const body = RESPONSES[key];
    const ok = {
      description: 'success',
      headers: {
        'x-request-id': { description: 'the request id', schema: { type: 'string' } },
        ...(op.path === '/v1/chat/completions' ? ROUTER_HEADERS : op.path === '/v1/embeddings' ? { 'x-router-model': ROUTER_HEADERS['x-router-model'] } : {}),
      },
      ...(body || OTHER_CONTENT[key]
        ? {
            content: {
              ...(body ? { 'application/json': { schema: z.toJSONSchema(body, { io: 'output', unrepresentable: 'any' }) } } : {}),
              ...OTHER_CONTENT[key],
            },
          }
        : {}),
    };
    (paths[op.path] ??= {})[op.method] = {
      operationId: OPERATION_IDS[key],
      tags: [tagOf(op.path)],
      summary: op.summary,
      ...(op.scope ? { security: [{ bearer: [] }], 'x-scope': op.scope } : {}),
      parameters: params,
      ...(op.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(op.body, { io: 'input', unrepresentable: 'any' }) } } } }
        : {}),
      responses: {
        [op.ok]: ok,
        ...(ALSO_CREATED.has(key) ? { 201: { ...ok, description: 'created' } } : {}),
        '4XX': error,
        '429': { ...error, description: 'rate limited (key limits, or lookups of unknown keys)', headers: retryAfter },
        ...(op.openAiErrors ? { '5XX': error } : {}),
        '503': { ...error, description: 'a dependency is away (Redis or Postgres): retry later', headers: retryAfter },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'bandit-router', version: '1', description: 'Online-learning LLM router (see README.md)' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    tags: [...new Set(OPS.map((o) => tagOf(o.path)))].map((name) => ({ name })),
    paths,
  };
}
