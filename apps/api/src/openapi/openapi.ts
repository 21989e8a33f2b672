import {
  budgetPatchSchema,
  evaluateRequestSchema,
  frontierRequestSchema,
  revertRequestSchema,
  chatRequestSchema,
  createKeySchema,
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
    path: '/v1/chat/completions',
    summary: 'OpenAI-compatible chat completions; model "router/<policy>"; stream: true relays SSE',
    scope: 'route',
    body: chatRequestSchema,
    ok: 200,
    openAiErrors: true,
  },
  {
    method: 'get',
    path: '/v1/models',
    summary: 'router/<policy> entries the key may use (OpenAI list format)',
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
  { method: 'get', path: '/admin/energy-readings', summary: 'Model-level energy readings, newest first (?model, ?limit, ?before)', scope: 'admin', ok: 200 },
  { method: 'delete', path: '/admin/energy-readings/{id}', summary: "Take a model-level reading out of its model's energy estimate", scope: 'admin', ok: 200 },
  { method: 'get', path: '/admin/dead-letters', summary: 'Events set aside because Postgres refused their data (?policy, ?limit)', scope: 'admin', ok: 200 },
  { method: 'post', path: '/admin/keys', summary: 'Create an API key (secret returned once)', scope: 'admin', body: createKeySchema, ok: 201 },
  { method: 'get', path: '/admin/keys', summary: 'List keys', scope: 'admin', ok: 200 },
  { method: 'delete', path: '/admin/keys/{id}', summary: 'Revoke a key', scope: 'admin', ok: 204 },
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
    const params = [
      ...[...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      requestIdParam,
    ];
    const error = op.openAiErrors ? openAiError : problem;
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      ...(op.scope ? { security: [{ bearer: [] }], 'x-scope': op.scope } : {}),
      parameters: params,
      ...(op.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(op.body, { io: 'input', unrepresentable: 'any' }) } } } }
        : {}),
      responses: {
        [op.ok]: { description: 'success', headers: { 'x-request-id': { description: 'the request id', schema: { type: 'string' } } } },
        '4XX': error,
        ...(op.openAiErrors ? { '5XX': error } : { '503': error }),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'bandit-router', version: '1', description: 'Online-learning LLM router (see README.md)' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
