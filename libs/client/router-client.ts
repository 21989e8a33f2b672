import { type z } from 'zod';
import {
  auditTrailSchema,
  batchAckSchema,
  type budgetPatchSchema,
  type continueRequestSchema,
  continueResponseSchema,
  type createKeySchema,
  createdKeySchema,
  type energyBatchSchema,
  eventAckSchema,
  type energySchema,
  type evaluateRequestSchema,
  evaluationResponseSchema,
  type feedbackBatchSchema,
  type feedbackSchema,
  keyListSchema,
  keyResponseSchema,
  keyUsageResponseSchema,
  modelListSchema,
  modelsListSchema,
  type modelConfigSchema,
  type modelPatchSchema,
  modelResponseSchema,
  type objectivePatchSchema,
  type pairwiseSchema,
  type patchKeySchema,
  type policyConfigSchema,
  policyListSchema,
  policyPutResponseSchema,
  policyResponseSchema,
  policyStatsSchema,
  type priorRequestSchema,
  rebuildResponseSchema,
  type routeRequestSchema,
  routeResponseSchema,
} from '@app/contracts';
import { parseAnswer } from './lenient-answer.js';

/** A field at fault, as the api names it (`arms.1`, `records.3.input`). */
export interface ProblemField {
  path: string;
  message: string;
}

/**
 * An error answer of the api (RFC 9457 problem+json), typed: `code` is the domain code (`POLICY_NOT_FOUND`,
 * `VALIDATION`, `RATE_LIMITED`, …), `errors` the fields at fault, `retryAfterSeconds` from `Retry-After` (429, 503).
 */
export class RouterApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors: ProblemField[],
    readonly retryAfterSeconds: number | null,
  ) {
    super(`${status} ${code}: ${detail}`);
    this.name = 'RouterApiError';
  }
}

/** The answer was not what the contract describes (a different server version, or a proxy in between). */
export class RouterResponseError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RouterResponseError';
  }
}

export interface RouterClientOptions {
  /** e.g. `http://127.0.0.1:3000` */
  baseUrl: string;
  /** A key's secret (Bearer). */
  apiKey: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Options of the event endpoints: the event id when the body has none (a retry with it is never counted twice). */
export interface EventOptions {
  idempotencyKey?: string;
}

/**
 * A small typed client of the router's HTTP API over `fetch`. Requests take the contracts' input types, answers
 * are parsed with the contracts' response schemas (fields a later server adds are ignored); error answers throw
 * RouterApiError.
 */
export class RouterClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly o: RouterClientOptions) {
    this.base = o.baseUrl.replace(/\/+$/, '');
    this.fetch = o.fetch ?? globalThis.fetch;
  }

  route(req: z.input<typeof routeRequestSchema>) {
    return this.call('POST', '/v1/route', routeResponseSchema, req);
  }

  /** `POST /v1/route/{decisionId}/continue`: accept the answer in hand or escalate (cascade policies). */
  continueRoute(decisionId: string, body: z.input<typeof continueRequestSchema>) {
    return this.call('POST', `/v1/route/${encodeURIComponent(decisionId)}/continue`, continueResponseSchema, body);
  }

  /** `GET /v1/models`: the `router/<policy>` entries and the models this key may call directly. */
  models() {
    return this.call('GET', '/v1/models', modelsListSchema);
  }

  feedback(body: z.input<typeof feedbackSchema>, o: EventOptions = {}) {
    return this.call('POST', '/v1/feedback', eventAckSchema, body, o.idempotencyKey);
  }

  pairwise(body: z.input<typeof pairwiseSchema>, o: EventOptions = {}) {
    return this.call('POST', '/v1/feedback/pairwise', eventAckSchema, body, o.idempotencyKey);
  }

  energy(body: z.input<typeof energySchema>, o: EventOptions = {}) {
    return this.call('POST', '/v1/energy', eventAckSchema, body, o.idempotencyKey);
  }

  feedbackBatch(body: z.input<typeof feedbackBatchSchema>, o: EventOptions = {}) {
    return this.call('POST', '/v1/feedback/batch', batchAckSchema, body, o.idempotencyKey);
  }

  energyBatch(body: z.input<typeof energyBatchSchema>, o: EventOptions = {}) {
    return this.call('POST', '/v1/energy/batch', batchAckSchema, body, o.idempotencyKey);
  }

  putModel(id: string, config: z.input<typeof modelConfigSchema>) {
    return this.call('PUT', `/admin/models/${encodeURIComponent(id)}`, modelResponseSchema, config);
  }

  /** Partial update: the fields not given are kept. */
  patchModel(id: string, patch: z.input<typeof modelPatchSchema>) {
    return this.call('PATCH', `/admin/models/${encodeURIComponent(id)}`, modelResponseSchema, patch);
  }

  async deleteModel(id: string): Promise<void> {
    await this.call('DELETE', `/admin/models/${encodeURIComponent(id)}`, null);
  }

  listModels() {
    return this.call('GET', '/admin/models', modelListSchema);
  }

  putPolicy(name: string, config: z.input<typeof policyConfigSchema>) {
    return this.call('PUT', `/admin/policies/${encodeURIComponent(name)}`, policyPutResponseSchema, config);
  }

  getPolicy(name: string) {
    return this.call('GET', `/admin/policies/${encodeURIComponent(name)}`, policyResponseSchema);
  }

  async deletePolicy(name: string): Promise<void> {
    await this.call('DELETE', `/admin/policies/${encodeURIComponent(name)}`, null);
  }

  listPolicies() {
    return this.call('GET', '/admin/policies', policyListSchema);
  }

  patchObjective(name: string, patch: z.input<typeof objectivePatchSchema>) {
    return this.call('PATCH', `/admin/policies/${encodeURIComponent(name)}/objective`, policyResponseSchema, patch);
  }

  patchBudget(name: string, body: z.input<typeof budgetPatchSchema>) {
    return this.call('PATCH', `/admin/policies/${encodeURIComponent(name)}/budget`, policyResponseSchema, body);
  }

  /** `POST …/prior`: a warm-start prior fitted on offline records (`append` adds to the earlier uploads). */
  installPrior(name: string, body: z.input<typeof priorRequestSchema>) {
    return this.call('POST', `/admin/policies/${encodeURIComponent(name)}/prior`, policyResponseSchema, body);
  }

  removePrior(name: string) {
    return this.call('DELETE', `/admin/policies/${encodeURIComponent(name)}/prior`, policyResponseSchema);
  }

  /** What a candidate trade-off would have achieved on the logged decisions (off-policy). */
  evaluate(name: string, body: z.input<typeof evaluateRequestSchema>) {
    return this.call('POST', `/admin/policies/${encodeURIComponent(name)}/evaluate`, evaluationResponseSchema, body);
  }

  audit(name: string) {
    return this.call('GET', `/admin/policies/${encodeURIComponent(name)}/audit`, auditTrailSchema);
  }

  /** Clears the learning state (a new epoch), keeps the configuration. */
  resetPolicy(name: string) {
    return this.call('POST', `/admin/policies/${encodeURIComponent(name)}/reset`, policyResponseSchema);
  }

  /** Recomputes the learning state from the durable log. */
  rebuildPolicy(name: string) {
    return this.call('POST', `/admin/policies/${encodeURIComponent(name)}/rebuild`, rebuildResponseSchema);
  }

  policyStats(name: string) {
    return this.call('GET', `/admin/policies/${encodeURIComponent(name)}/stats`, policyStatsSchema);
  }

  createKey(body: z.input<typeof createKeySchema>) {
    return this.call('POST', '/admin/keys', createdKeySchema, body);
  }

  listKeys() {
    return this.call('GET', '/admin/keys', keyListSchema);
  }

  /** Limits (`null` removes them) and policies of a key; its id and secret stay. */
  patchKey(id: string, patch: z.input<typeof patchKeySchema>) {
    return this.call('PATCH', `/admin/keys/${encodeURIComponent(id)}`, keyResponseSchema, patch);
  }

  /** Calls, tokens, cost and energy per model of a key between `from` and `to` (ISO times; default: the last day). */
  keyUsage(id: string, range: { from?: string; to?: string } = {}) {
    const q = new URLSearchParams(Object.entries(range).filter((e): e is [string, string] => e[1] !== undefined));
    const query = q.size > 0 ? `?${q.toString()}` : '';
    return this.call('GET', `/admin/keys/${encodeURIComponent(id)}/usage${query}`, keyUsageResponseSchema);
  }

  async revokeKey(id: string): Promise<void> {
    await this.call('DELETE', `/admin/keys/${encodeURIComponent(id)}`, null);
  }

  private async call<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown, idempotencyKey?: string): Promise<z.output<S>>;
  private async call(method: string, path: string, schema: null, body?: unknown): Promise<void>;
  private async call(method: string, path: string, schema: z.ZodType | null, body?: unknown, idempotencyKey?: string): Promise<unknown> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.o.apiKey}`, accept: 'application/json, application/problem+json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    const res = await this.fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    if (!res.ok) throw toApiError(res, text);
    if (schema === null) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RouterResponseError(res.status, `${method} ${path}: the answer is not JSON`);
    }
    const r = parseAnswer(schema, json);
    if (!r.success)
      throw new RouterResponseError(
        res.status,
        `${method} ${path}: unexpected answer: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    return r.data;
  }
}

function toApiError(res: Response, text: string): RouterApiError {
  const retry = res.headers.get('retry-after');
  let p: { type?: unknown; detail?: unknown; title?: unknown; errors?: unknown } = {};
  try {
    p = JSON.parse(text) as typeof p;
  } catch {
    // not problem+json (a proxy's page): status only
  }
  const type = typeof p.type === 'string' ? p.type : '';
  const code = type.startsWith('urn:router:problem:') ? type.slice('urn:router:problem:'.length).replace(/-/g, '_').toUpperCase() : `HTTP_${res.status}`;
  const errors = Array.isArray(p.errors) ? (p.errors as ProblemField[]).filter((e) => typeof e?.path === 'string' && typeof e?.message === 'string') : [];
  const detail = typeof p.detail === 'string' ? p.detail : typeof p.title === 'string' ? p.title : res.statusText;
  return new RouterApiError(res.status, code, detail, errors, retry !== null && /^\d+$/.test(retry) ? Number(retry) : null);
}
