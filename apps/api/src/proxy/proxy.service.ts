import { randomBytes } from 'node:crypto';
import { type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  type ChatRequest,
  directUsageEventId,
  type EmbeddingsRequest,
  isEscalationPolicyName,
  isRouterName,
  type Model,
  type Principal,
  ROUTER_MODEL_PREFIX,
  type RouteResponse,
  usageEventId,
} from '@app/contracts';
import { DomainError, type FieldError } from '@app/errors';
import { CONFIG, Logger, SpanKind, traceCarrier, withSpan } from '@app/infra';
import { type FastifyReply } from 'fastify';
import { type ApiEnv } from '../config.js';
import { PolicyCache } from '../routing/policy-cache.service.js';
import { RoutingService } from '../routing/routing.service.js';
import { ContinueService } from '../routing/continue.service.js';
import { breakerId } from '../breakers/breaker-id.js';
import { BreakerService } from '../breakers/breakers.service.js';
import { openAiError } from '../errors/problem.filter.js';
import { MetricsService } from '../observability/metrics.service.js';
import { REQUEST_ID_HEADER } from '../observability/request-id.js';
import { type ArmsOf, callableModels, directModelNotFound, mayCallModel } from './model-access.js';
import { nestingErrors } from './nesting.js';
import { SseRelay, untilAnswering } from './sse-relay.js';
import { embeddingsInputTokens, estimateTokens, reportedCount, usageTokens } from './usage-tokens.js';
import { streamUsage } from './stream-usage.js';
import { ResponseTooLarge } from './too-large.js';
import { type Attempt, classify, type UpstreamFailure, type UpstreamRequest, Upstreams } from './upstream.js';
import { RateLimitRests } from './rate-limit-rests.js';
import { ttftLimit } from './ttft-limit.js';
import { bodyBytes } from './bounded-body.js';
import { CompletionThread } from './completion-thread.js';
import { jsonForm, MalformedAnswer, reportedFailure } from './completion-rewrite.js';
import { type Answered, usageJob, type UsageOwner, type Wasted, wastedUsageJob } from './usage-job.js';
import { type CallPlan, JSON_CONTENT_TYPE, type UpstreamCall } from './call-plan.js';
import { ProxyCascade } from './proxy-cascade.js';
import { UsageRecorder } from './usage-recorder.service.js';
import { originOf, TenantShare } from './tenant-share.js';
import { healthCheck } from './health-check.js';
import { ClientGone, clientGone, onResponseOver } from '../response-over.js';

/**
 * What an answer measured: the tokens its upstream reported, else estimated at four UTF-8 bytes a token (input from
 * the whole request sent upstream, tools and every other parameter included; output from `generated` bytes of
 * text), and its timings.
 */
function measured(
  model: string,
  request: UpstreamRequest,
  prompt: unknown,
  completion: unknown,
  generated: number,
  latencyMs: number,
  ttftMs: number | null,
): Answered {
  return {
    model,
    inputTokens: usageTokens(prompt, () => request.inputEstimate),
    outputTokens: usageTokens(completion, () => estimateTokens(generated)),
    latencyMs,
    ttftMs,
  };
}

/**
 * What an attempt whose request reached the upstream but that was cut before any usable answer (out of time, or its
 * client left) is charged: its input, estimated (the upstream had the prompt and may have worked on it the whole
 * time; what it generated is not known). Not charged: a request that never reached the upstream (it waited for a
 * connection, or the connection failed or timed out), and a failure the upstream itself reported (5xx, reset).
 */
function cut(model: string, request: UpstreamRequest, failure: UpstreamFailure, latencyMs: number): Answered | undefined {
  if (!request.sent || (failure.reason !== 'ttft' && failure.reason !== 'timeout' && failure.reason !== 'client')) return undefined;
  return inputOnly(model, request, latencyMs);
}

/** A failed attempt charged its input (estimated) alone: what it generated is not known or was not usable. */
const inputOnly = (model: string, request: UpstreamRequest, latencyMs: number): Answered => ({
  ...measured(model, request, undefined, 0, 0, latencyMs, null),
  partial: true,
});

/** A request undici never had. */
const DONE = Promise.resolve();

/** Cut by our own time limit (not a transport error that says it timed out) before the request was sent. */
function unsentByUs(request: UpstreamRequest, failure: UpstreamFailure, signal: AbortSignal): boolean {
  return signal.aborted && !request.sent && (failure.reason === 'ttft' || failure.reason === 'timeout');
}

/** How long, and how far, a stream is still read for its usage after its client left at the end of the answer. */
const USAGE_AFTER_CLIENT_MS = 2000;
const USAGE_AFTER_CLIENT_BYTES = 64 * 1024;

/** How a routed call's decision is recorded: as the decision of the model that answered, or of none. */
interface Recording {
  answered: (model: string) => Promise<void>;
  unanswered: () => Promise<void>;
}

/**
 * An attempt's end; a failed stream that had `committed` (sent bytes) carries what it forwarded as `partial`.
 * `cutByUs`: our own limit ended it while the model was not at fault as far as it shows: `flowing`, a stream
 * `PROXY_TIMEOUT_MS` cut while its upstream was still sending (its last bytes within the time-to-first-byte limit:
 * the caller asked for a longer answer than the limit allows); `unsent`, out of time before the request reached the
 * upstream (blamesModel decides). `settled`: when undici is done with the request (one given up while it waited
 * for a connection stays in undici's queue until a connection frees).
 */
type Outcome = { settled: Promise<unknown> } & (
  { ok: true; answered: Answered } | { ok: false; failure: UpstreamFailure; committed: boolean; partial?: Answered; cutByUs?: 'flowing' | 'unsent' }
);

/** Ends a stream that failed after its first bytes: the client gone, or told in-band (its status line is long gone). */
function endBrokenStream(res: ServerResponse, failure: UpstreamFailure, errorSent = false): void {
  if (failure.reason === 'client') {
    res.destroy();
    return;
  }
  if (errorSent) {
    res.end();
    return;
  }
  const event = openAiError({ status: 502, code: 'UPSTREAM_FAILED', detail: `upstream failed mid-stream: ${failure.message}` });
  res.write(`data: ${JSON.stringify(event)}\n\n`);
  res.end();
}

/** A call's attempts so far, the answers it could not use, and how its usage is recorded (callInOrder). */
interface CallTrail {
  attempts: Attempt[];
  wasted: Wasted[];
  /** When undici is done with each request of the model being tried (Outcome.settled). */
  settling: Promise<unknown>[];
  record: (model: Model | null, a: Answered | null) => void;
  /** An upstream answered 429, or a model was skipped resting after one: no answer is then a 429. */
  rateLimited: boolean;
}

/** Why a model was not called: its tenant held its share of the model's upstream connections (TenantShare). */
const OVER_SHARE = "the tenant's share of this upstream's connections is in use";

/** An attempt not made (nothing sent upstream). */
function notCalled(model: string, why: string): Attempt {
  return { model, ok: false, status: null, error: why, ms: 0 };
}

/** No candidate was called, the tenant's share in the way: the caller's own load, to retry shortly (429), not the models' failure. */
function overShare(attempts: Attempt[]): DomainError {
  return new DomainError('RATE_LIMITED', `too many calls of this tenant in flight to these upstreams`, attemptErrors(attempts), 1);
}

/** What is left of the call's time (PROXY_TIMEOUT_MS from its first try, which sets it; 0 once used up). */
const timeLeft = (call: UpstreamCall): number => Math.max(0, (call.deadline ?? 0) - Date.now());
/** The least time a further attempt starts with (or half the whole-call limit, if that is less). */
const MIN_ATTEMPT_MS = 1000;
/** A timeout counts against the model only when its attempt had at least this share of the whole-call limit. */
const BLAMED_SHARE = 0.9;

/** No model answered and one rests after its upstream's 429: a 429 with the shortest rest as Retry-After. */
function upstreamsResting(attempts: Attempt[], restMs: number): DomainError {
  const seconds = Math.max(1, Math.ceil(restMs / 1000));
  return new DomainError('RATE_LIMITED', `the upstreams are rate-limiting the router: retry after ${seconds} s`, attemptErrors(attempts), seconds);
}

/** How a relayed stream is going: held up by its client, and when its upstream last sent bytes. */
interface StreamWatch {
  waitingForClient: boolean;
  lastChunkAt: number;
  /** Cut by `PROXY_TIMEOUT_MS` while the relay was not waiting for its client. */
  outOfTime: boolean;
}

/**
 * The OpenAI-compatible gateway: route on the messages (the same decision path as /v1/route), call the chosen
 * model's upstream (bytes over undici: upstream.ts), retry once, then fall back to the decision's next-best models;
 * breakers keep failing models out. What the call measured (tokens, cost, latency, time to first token, every
 * attempt) is queued as a usage event of the decision and feeds its cost and latency heads.
 */
@Injectable()
export class ProxyService implements OnApplicationShutdown {
  private readonly upstreams: Upstreams;
  /** Each tenant's share of each upstream origin's connections. */
  private readonly shares: TenantShare;
  private readonly cascade: ProxyCascade;
  private readonly log: Logger;
  /** Where non-streamed answers are rewritten (large ones off this thread). */
  private readonly completions: CompletionThread;
  /** Models resting after their upstream's 429, per tenant (a 429 may be one request's own). */
  private readonly rests = new RateLimitRests();

  constructor(
    private readonly routing: RoutingService,
    private readonly cache: PolicyCache,
    private readonly breakers: BreakerService,
    private readonly metrics: MetricsService,
    private readonly usage: UsageRecorder,
    steps: ContinueService,
    @Inject(CONFIG) private readonly env: ApiEnv,
    @Inject(Logger) logger: Logger,
  ) {
    this.log = logger.child('proxy');
    this.completions = new CompletionThread(undefined, (message) => this.log.warn(message));
    this.cascade = new ProxyCascade(
      steps,
      { callInOrder: (plan, call) => this.callInOrder(plan, call), recordUsage: (...args) => this.recordUsage(...args) },
      logger.child('proxy-cascade'),
    );
    this.upstreams = new Upstreams({
      keyEnvPrefix: env.UPSTREAM_KEY_ENV_PREFIX,
      maxResponseBytes: env.PROXY_MAX_RESPONSE_BYTES,
      connections: env.PROXY_UPSTREAM_CONNECTIONS,
    });
    this.shares = new TenantShare(env.PROXY_UPSTREAM_CONNECTIONS, env.PROXY_TENANT_SHARE);
  }

  /** After the HTTP server closed (the requests under way answered): the completion thread stops. */
  async onApplicationShutdown(): Promise<void> {
    await this.completions.close();
  }

  /** The routers (`router/<policy>`) the key may use, then the models it may call directly (model-access.ts). */
  models(caller: Principal) {
    // A cascade's escalation policy is not a router a call can name.
    const names = this.cache
      .policyNames()
      .filter((p) => !isEscalationPolicyName(p) && (caller.scope === 'admin' || caller.policies === null || caller.policies.includes(p)));
    const models = callableModels(
      caller,
      this.cache.modelIds().flatMap((id) => this.cache.model(id) ?? []),
      this.armsOf,
    );
    return {
      object: 'list',
      data: [
        ...names.sort().map((p) => ({
          id: `${ROUTER_MODEL_PREFIX}${p}`,
          object: 'model',
          created: Math.floor(Date.parse(this.cache.get(p)?.policy.updatedAt ?? '') / 1000) || 0,
          owned_by: 'bandit-router',
        })),
        ...models.map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: 'bandit-router' })),
      ],
    };
  }

  /** `GET /v1/models/{id}`: the entry of `models` with that id, else the model's 404 (the same for one the key may not call). */
  model(caller: Principal, id: string) {
    const found = this.models(caller).data.find((m) => m.id === id);
    if (found) return found;
    throw new DomainError('MODEL_NOT_FOUND', `model ${id.slice(0, 200)} does not exist`, [{ path: 'model', message: 'unknown model' }]);
  }

  private readonly armsOf = (policy: string) => this.cache.get(policy)?.policy.arms;
  /** A policy's arms and the embeddings model it embeds prompts with (what a key restricted to it may embed with). */
  private readonly reachOf = (policy: string) => {
    const p = this.cache.get(policy)?.policy;
    return p && (p.features.model === undefined ? p.arms : [...p.arms, p.features.model]);
  };

  /**
   * One trace per request (continuing the caller's `traceparent`): route, each upstream attempt, the worker. The
   * request id goes to every upstream attempt as `x-request-id`.
   */
  complete(caller: Principal, req: ChatRequest, reply: FastifyReply, ctx: ProxyContext): Promise<void> {
    const routed = isRouterName(req.model);
    return withSpan(
      'POST /v1/chat/completions',
      { ...(routed ? { 'router.policy': req.model.slice(ROUTER_MODEL_PREFIX.length) } : { 'router.model': req.model }), 'router.stream': req.stream === true },
      () => (routed ? this.serve(caller, req, reply, ctx.requestId) : this.serveDirect(caller, req, reply, ctx.requestId)),
      {
        carrier: ctx.headers,
        kind: SpanKind.SERVER,
      },
    );
  }

  private async serve(caller: Principal, req: ChatRequest, reply: FastifyReply, requestId: string): Promise<void> {
    const policy = req.model.slice(ROUTER_MODEL_PREFIX.length);
    const { model: _routerModel, messages, stream, ...params } = req;
    // Before routing: such a request cannot be serialised for any upstream, and must not look like their failure.
    refuseTooDeep(params, messages);
    const pending = await this.routing.decide(caller, { policy, messages: messages, mode: 'single' }).catch((err: unknown) => {
      throw asModelField(err, req.model);
    });
    const dec = pending.response;
    // The pick's hot copy is written while its upstream is called: recording it after the answer waits for nothing.
    pending.prewrite();
    // Recorded once the answering model is known (before its answer reaches the client), as that model's
    // decision: its usage, energy and later thumbs then teach the model that answered, not a failed pick. When no
    // model answered (every attempt failed, the upstream's own 4xx relayed, the client gone first), as a decision
    // nothing is learnt from: no call was served.
    let recorded: Promise<void> | undefined;
    const recording: Recording = {
      answered: (model) => (recorded ??= pending.record(model)),
      unanswered: () => (recorded ??= pending.recordUnserved()),
    };
    const owner: UsageOwner = { eventId: usageEventId(dec.decisionId), decisionId: dec.decisionId, keyId: caller.keyId };
    try {
      await this.serveDecision(caller, dec, owner, recording, chatCall(caller, messages, params, stream, reply, requestId));
    } finally {
      await recording.unanswered();
    }
  }

  private async serveDecision(caller: Principal, dec: RouteResponse, owner: UsageOwner, recording: Recording, call: UpstreamCall): Promise<void> {
    const plan = this.decisionPlan(caller, dec, owner, recording);
    if (call.stream || !this.cache.get(dec.policy)?.policy.cascade) return this.callInOrder(plan, call);
    await this.cascade.serve(caller, dec, plan, call);
  }

  /** The calls of a routing decision: its fallback order, its answer recorded as the answering model's decision. */
  private decisionPlan(caller: Principal, dec: RouteResponse, owner: UsageOwner, recording: Recording): CallPlan {
    const policy = dec.policy;
    return {
      order: fallbackOrder(dec),
      beforeAnswer: recording.answered,
      beforeRelay: recording.unanswered,
      headers: (model) => this.routerHeaders(dec, model),
      record: (model, a, attempts, wasted) => this.recordUsage(caller, owner, dec.model, model, a, attempts, wasted),
      answered: (model) => {
        if (model !== dec.model) this.metrics.fallbacks.inc({ policy });
      },
      allFailed: (attempts) => {
        this.metrics.proxyFailures.inc({ policy });
        return new DomainError('UPSTREAM_FAILED', `every candidate failed for decision ${dec.decisionId}`, attemptErrors(attempts));
      },
    };
  }

  /**
   * A direct model call (`"model": "<id>"`): the model's upstream through the same attempts, breakers and limits
   * as a routed call, without a decision (no fallback to another model, nothing learnt); its usage is recorded.
   */
  private serveDirect(caller: Principal, req: ChatRequest, reply: FastifyReply, requestId: string): Promise<void> {
    const { model: id, messages, stream, ...params } = req;
    refuseTooDeep(params, messages);
    return this.callDirect(caller, id, this.armsOf, chatCall(caller, messages, params, stream, reply, requestId));
  }

  /**
   * `POST /v1/embeddings`: a direct call of a model's `/embeddings` (embeddings are not routed), through the same
   * attempts and key limits as a direct chat call, with a breaker of its own (an upstream that serves chat but not
   * embeddings must not take its model out of routing); its usage (input tokens and their cost) is recorded. A key
   * restricted to policies may also call the embeddings model its policies embed prompts with.
   */
  embed(caller: Principal, req: EmbeddingsRequest, reply: FastifyReply, ctx: ProxyContext): Promise<void> {
    return withSpan(
      'POST /v1/embeddings',
      { 'router.model': req.model },
      () => {
        const { model: id, ...params } = req;
        refuseTooDeep(params, []);
        return this.callDirect(caller, id, this.reachOf, {
          endpoint: 'embeddings',
          messages: [],
          params,
          stream: false,
          reply,
          requestId: ctx.requestId,
          tenant: caller.owner,
        });
      },
      { carrier: ctx.headers, kind: SpanKind.SERVER },
    );
  }

  /**
   * A call of model `id` with no decision: no fallback to another model, nothing learnt; its usage is recorded.
   * `scope`: the models of a policy a key restricted to it may call.
   */
  private async callDirect(caller: Principal, id: string, scope: ArmsOf, call: UpstreamCall): Promise<void> {
    if (!mayCallModel(caller, this.cache.model(id), scope)) throw directModelNotFound(id);
    const owner: UsageOwner = { eventId: directUsageEventId(randomBytes(15).toString('base64url')), keyId: caller.keyId };
    await this.callInOrder(
      {
        order: [id],
        beforeAnswer: () => Promise.resolve(),
        headers: (model) => ({ 'x-router-model': model }),
        record: (model, a, attempts, wasted) => this.recordUsage(caller, owner, id, model, a, attempts, wasted),
        answered: () => undefined,
        allFailed: (attempts) => new DomainError('UPSTREAM_FAILED', `model ${id} failed`, attemptErrors(attempts)),
      },
      call,
    );
  }

  /**
   * Tries the plan's models in order: each one retried once (5xx, 429, timeouts), skipped while its breaker is
   * open, when it cannot be called as configured, or when the caller's tenant holds its share of the model's
   * upstream connections (TenantShare); an upstream's own 4xx is relayed without fallback. Records the call's usage
   * once, whatever the outcome.
   */
  private async callInOrder(plan: CallPlan, call: UpstreamCall): Promise<void> {
    const attempts: Attempt[] = [];
    // Answers made upstream but not usable: each is charged, as the call's usage when no attempt answers (the last
    // of them), else as its own event beside the answer's.
    const wasted: Wasted[] = [];
    const trail: CallTrail = {
      attempts,
      wasted,
      settling: [],
      rateLimited: false,
      record: (model, a) =>
        plan.record(
          model,
          a,
          attempts,
          wasted.filter((w) => w.answered !== a),
        ),
    };
    // An escalation continues its call: its first model is not the call's first.
    const continuing = call.deadline !== undefined;
    call.deadline ??= Date.now() + this.env.PROXY_TIMEOUT_MS;
    for (const id of plan.order) {
      const model = this.cache.model(id);
      // A client that left, or a call (nearly) out of time, is not worth another model's work.
      const stop = (continuing || attempts.length > 0) && this.notWorthMore(call);
      if (stop) {
        attempts.push(notCalled(id, stop));
        continue;
      }
      if (!model?.baseUrl) {
        attempts.push(notCalled(id, 'no baseUrl configured'));
        continue;
      }
      const slot = this.shares.take(originOf(model.baseUrl), call.tenant);
      if (!slot) {
        attempts.push(notCalled(id, OVER_SHARE));
        continue;
      }
      try {
        if (await this.tryModel(model, plan, call, trail)) return;
      } finally {
        // Held until undici is done with every request of it: one given up in the pool's queue keeps its place.
        void Promise.all(trail.settling.splice(0)).then(slot);
      }
    }
    const last = wasted.at(-1);
    trail.record(last?.model ?? null, last?.answered ?? null);
    // Nothing was sent (notCalled: over the share, circuit open, no baseUrl), and the share was in the way.
    if (attempts.some((a) => a.error === OVER_SHARE) && attempts.every((a) => a.ms === 0)) {
      this.metrics.keyLimitRefusals.inc({ limit: 'upstreamShare' });
      throw overShare(attempts);
    }
    const failed = plan.allFailed(attempts);
    // A model whose upstream rate-limited the call answers again after its rest: the caller is told when.
    if (trail.rateLimited) {
      const rests = plan.order.map((m) => this.rests.remainingMs(m, call.tenant)).filter((ms) => ms > 0);
      throw upstreamsResting(attempts, rests.length > 0 ? Math.min(...rests) : 0);
    }
    throw failed;
  }

  /**
   * A model's attempts (the call and one retry) behind its breaker. True when the call is over (answered, the
   * upstream's 4xx relayed, a stream ended after its first bytes); false to try the next model; throws when the
   * call must stop.
   */
  private async tryModel(model: Model, plan: CallPlan, call: UpstreamCall, trail: CallTrail): Promise<boolean> {
    const { id } = model;
    const { attempts, wasted, record } = trail;
    const resting = this.rests.remainingMs(id, call.tenant);
    if (resting > 0) {
      trail.rateLimited = true;
      attempts.push(notCalled(id, `its upstream rate-limited the router: resting ${Math.ceil(resting / 1000)} s more`));
      return false;
    }
    const breaker = breakerId(id, call.endpoint);
    const check = () => healthCheck(this.upstreams, model, call.endpoint, this.env.PROXY_TTFT_TIMEOUT_MS);
    if (this.breakers.out(breaker, call.tenant)) {
      attempts.push(
        notCalled(
          id,
          "this tenant's recent calls of the model failed: it keeps off the model while the router checks it, or for a cool-down after it answered the router",
        ),
      );
      return false;
    }
    if (!(await this.breakers.admit(breaker, check))) {
      attempts.push(notCalled(id, 'circuit open'));
      return false;
    }
    const admittedAt = Date.now();
    for (let attempt = 0; attempt < 2; attempt++) {
      if (attempt > 0 && this.notWorthMore(call)) break;
      const budget = timeLeft(call);
      const t0 = performance.now();
      const out = await this.attempt(model, call, plan, attempt);
      trail.settling.push(out.settled);
      const ms = performance.now() - t0;
      if (out.ok) {
        attempts.push({ model: id, ok: true, status: 200, error: null, ms });
        this.metrics.upstreamSeconds.observe({ model: id, endpoint: call.endpoint, outcome: 'ok' }, ms / 1000);
        plan.answered(id);
        void this.breakers.success(breaker, call.tenant);
        record(model, out.answered);
        return true;
      }
      const f = out.failure;
      if (f.detail) this.log.warn('upstream attempt failed', { model: id, attempt: attempt + 1, reason: f.reason, error: f.detail });
      attempts.push({ model: id, ok: false, status: f.status, error: f.message, ms });
      if (out.partial && !out.committed) wasted.push({ model, answered: out.partial, attempt: attempts[attempts.length - 1] });
      this.metrics.upstreamSeconds.observe({ model: id, endpoint: call.endpoint, outcome: 'error' }, ms / 1000);
      this.metrics.upstreamErrors.inc({ model: id, endpoint: call.endpoint, reason: f.reason });
      if (f.next === 'skip') return false;
      if (f.next === 'rate-limited') {
        this.rests.rest(id, call.tenant, f.retryAfterMs);
        trail.rateLimited = true;
        return false;
      }
      if (f.next === 'relay') {
        // The request itself is wrong for the upstream (400, 413, 422 …): pass its answer on, no fallback.
        record(model, null);
        if (plan.relay === false) throw plan.allFailed(attempts);
        await plan.beforeRelay?.();
        relayUpstreamError(call.reply, plan.headers(id), f);
        return true;
      }
      if (f.next === 'stop') {
        record(model, out.partial ?? null);
        if (out.committed) return true;
        if (f.reason === 'local') throw f.cause;
        throw new DomainError('UPSTREAM_FAILED', f.message, attemptErrors(attempts));
      }
      // At the threshold the router checks the model in the background; this call moves on meanwhile.
      const counted = this.blamesModel(model, out, budget) ? await this.breakers.failure(breaker, admittedAt, call.tenant, check) : null;
      if (out.committed) {
        // Bytes already reached the client: a fallback would splice two answers. The stream was ended.
        record(model, out.partial ?? null);
        return true;
      }
      if (f.next === 'fallback' || counted === 'check' || this.breakers.excluded(breaker, call.tenant)) return false;
    }
    return false;
  }

  /**
   * Whether a failed attempt counts against the model's breaker: not a stream cut while still flowing, nor an
   * attempt out of time that had less than BLAMED_SHARE of the whole-call limit (earlier attempts used the rest), nor
   * a request out of time before it was sent while every connection to its upstream was in use (the wait was the
   * pool's); a request unsent with connections to spare was waiting on the upstream's connect, and counts.
   */
  private blamesModel(model: Model, out: Outcome & { ok: false }, budget: number): boolean {
    if (out.cutByUs === 'flowing') return false;
    if (out.failure.reason === 'timeout' && budget < BLAMED_SHARE * this.env.PROXY_TIMEOUT_MS) return false;
    return out.cutByUs !== 'unsent' || !this.shares.crowded(originOf(model.baseUrl ?? ''));
  }

  /** Why no further attempt of a call is worth making (its client left, or too little of its time is left), or null. */
  private notWorthMore(call: UpstreamCall): string | null {
    if (clientGone(call.reply.request.raw, call.reply.raw)) return 'the client left';
    return timeLeft(call) < Math.min(MIN_ATTEMPT_MS, this.env.PROXY_TIMEOUT_MS / 2) ? "the call's time limit was used up" : null;
  }

  /** One attempt of `model`, traced as a client span. */
  private attempt(model: Model, call: UpstreamCall, plan: CallPlan, attempt: number): Promise<Outcome> {
    return withSpan(
      `upstream ${call.endpoint.replace('/', '.')}`,
      { 'router.model': model.id, 'router.attempt': attempt + 1 },
      async (span) => {
        const o = call.stream ? await this.streamOnce(model, call, plan) : await this.callOnce(model, call, plan);
        if (!o.ok) span.setAttributes({ 'router.error': o.failure.reason, ...(o.failure.status ? { 'http.response.status_code': o.failure.status } : {}) });
        return o;
      },
      { kind: SpanKind.CLIENT },
    );
  }

  private routerHeaders(dec: RouteResponse, model: string): Record<string, string> {
    return { 'x-router-decision-id': dec.decisionId, 'x-router-model': model };
  }

  /**
   * Non-streaming: the TTFT limit bounds the wait for a connection; once sent, the whole-call limit alone (the first
   * byte of such an answer comes when it is all generated, so a first-byte limit would cap the generation).
   */
  private async callOnce(model: Model, call: UpstreamCall, plan: CallPlan): Promise<Outcome> {
    const { reply } = call;
    const ac = new AbortController();
    const total = setTimeout(() => ac.abort(new Error('timeout')), timeLeft(call));
    const t0 = performance.now();
    let responded = false;
    let request: UpstreamRequest | undefined;
    let clearTtft = () => {};
    try {
      request = upstreamRequest(model, call, false, ac.signal);
      clearTtft = ttftLimit(request, ac, this.env.PROXY_TTFT_TIMEOUT_MS, Number.POSITIVE_INFINITY);
      const answer = await this.upstreams.post(model, request);
      responded = true;
      clearTtft();
      const ttftMs = performance.now() - t0;
      // Bounded by PROXY_MAX_RESPONSE_BYTES while it is read (bounded-body.ts); a large one is rewritten off this thread.
      const done = await this.completions.rewrite(
        await bodyBytes(answer.chunks),
        model.id,
        jsonForm(call.endpoint, plan.hold !== undefined),
        ac.signal,
        call.tenant,
      );
      const latencyMs = performance.now() - t0;
      await plan.beforeAnswer(model.id);
      if (plan.hold) plan.hold(model.id, { examined: done.examined!, bytes: done.bytes as Buffer });
      else void reply.status(200).headers(plan.headers(model.id)).type(JSON_CONTENT_TYPE).send(done.bytes);
      // An embeddings answer has no output: whatever it says of completions is not charged.
      const answered =
        call.endpoint === 'embeddings'
          ? measured(model.id, request, reportedCount(done.promptTokens, done.totalTokens), 0, 0, latencyMs, ttftMs)
          : measured(model.id, request, done.promptTokens, done.completionTokens, done.generatedBytes, latencyMs, ttftMs);
      return { ok: true, answered, settled: request.settled ?? DONE };
    } catch (err) {
      const failure = classify(err, ac.signal, responded);
      const unsent = request !== undefined && unsentByUs(request, failure, ac.signal);
      ac.abort(new Error('attempt over'));
      // An answer that came (2xx) but could not be used, or was over the limit, was made upstream all the same: its
      // input is charged (its output is not known), as is that of a request cut while the upstream worked on it.
      const ms = performance.now() - t0;
      const made = request !== undefined && ((responded && !reportedFailure(err)) || err instanceof ResponseTooLarge);
      const partial = made ? inputOnly(model.id, request!, ms) : request && cut(model.id, request, failure, ms);
      const settled = request?.settled ?? DONE;
      return { ok: false, failure, committed: false, settled, ...(partial ? { partial } : {}), ...(unsent ? { cutByUs: 'unsent' as const } : {}) };
    } finally {
      clearTtft();
      clearTimeout(total);
    }
  }

  /**
   * Streaming: the upstream's server-sent events are relayed as they arrive (each `data:` chunk with `model`
   * rewritten). Nothing is sent before the answer begins (its first event with choices: untilAnswering), so a model
   * that fails before then can still be replaced by a fallback; the TTFT limit applies until the first byte. The
   * upstream is read no faster than the client takes the relayed stream, and an event over
   * PROXY_MAX_SSE_EVENT_BYTES ends it.
   */
  private async streamOnce(model: Model, call: UpstreamCall, plan: CallPlan): Promise<Outcome> {
    const { reply } = call;
    const ac = new AbortController();
    const request = upstreamRequest(model, call, true, ac.signal);
    const t0 = performance.now();
    const watch: StreamWatch = { waitingForClient: false, lastChunkAt: t0, outOfTime: false };
    const clearTtft = ttftLimit(request, ac, this.env.PROXY_TTFT_TIMEOUT_MS);
    const total = streamDeadline(ac, watch, timeLeft(call));
    let responded = false;
    let whole = false;
    let committed = false;
    let relay: SseRelay | undefined;
    let ttftMs: number | null = null;
    let linger: NodeJS.Timeout | undefined;
    let over = false;
    // What the relay has forwarded so far, as the call's usage (estimated where the upstream reported none).
    const usage = (r: SseRelay, partial: boolean): Answered => ({
      ...measured(model.id, request, r.usage?.prompt_tokens, r.usage?.completion_tokens, r.generatedBytes, performance.now() - t0, ttftMs),
      ...(partial ? { partial: true as const } : {}),
    });
    // A client that leaves ends the upstream call at once (before its first chunk too: no answer, no decision to
    // learn), except once the answer is complete: then only the usage is left unread, and it is read (a little
    // while) so that the call is charged what the upstream counted, hidden reasoning included, not an estimate.
    onResponseOver(reply.request.raw, reply.raw, (finished) => {
      if (finished || over) return;
      if (!committed || !relay?.answerComplete) return ac.abort(new ClientGone('the client went away'));
      relay.detach();
      linger = setTimeout(() => ac.abort(new ClientGone('the client went away before the usage')), USAGE_AFTER_CLIENT_MS);
    });
    try {
      const answer = await this.upstreams.post(model, request);
      responded = true;
      // An upstream that ignored `stream` answered the whole completion as JSON: its headers are its first byte, and
      // it is relayed as the events it makes (events sent under another type are relayed as they come).
      whole = answer.json && !answer.eventStream;
      const first = whole ? { done: false, value: await this.asEvents(answer.chunks, model, ac, call, clearTtft) } : await answer.chunks.next();
      clearTtft();
      if (first.done) throw new Error('upstream closed the stream before any data');
      // Events are held until the answer begins (an event with choices): an error event or an end before it fails
      // the attempt, which can still fall back (the whole-call limit bounds the wait).
      const limit = { bytes: this.env.PROXY_MAX_SSE_EVENT_BYTES, setting: 'PROXY_MAX_SSE_EVENT_BYTES' };
      const holding = holdingRelay(model.id, limit, streamUsage(model, call.params).hide, call.params.n);
      const r = (relay = holding.relay);
      await untilAnswering(answer.chunks, r, first.value, limit.bytes);
      if (ac.signal.aborted) throw ac.signal.reason;
      watch.lastChunkAt = performance.now();
      ttftMs = watch.lastChunkAt - t0;
      await plan.beforeAnswer(model.id);
      const res = this.openStream(reply, plan.headers(model.id));
      committed = true;
      await relayAll(answer.chunks, r, holding.open(res), res, ac, watch);
      endStream(r, res);
      return { ok: true, answered: usage(r, false), settled: request.settled ?? DONE };
    } catch (err) {
      const failure = classify(err, ac.signal, responded);
      const unsent = unsentByUs(request, failure, ac.signal);
      // Stop reading the upstream (an event over the limit leaves it mid-body).
      ac.abort(new Error('attempt over'));
      // Its own error event already went out: the stream just ends.
      if (committed) endBrokenStream(reply.raw, failure, relay?.sawError === true);
      const now = performance.now();
      // A whole answer that came but could not be used was made upstream all the same: its input is charged, as callOnce does.
      const partial =
        committed && relay
          ? usage(relay, true)
          : whole && !reportedFailure(err)
            ? inputOnly(model.id, request, now - t0)
            : cut(model.id, request, failure, now - t0);
      const flowing = committed && watch.outOfTime && now - watch.lastChunkAt < this.env.PROXY_TTFT_TIMEOUT_MS;
      const cutByUs = flowing ? ('flowing' as const) : unsent ? ('unsent' as const) : undefined;
      return { ok: false, failure, committed, settled: request.settled ?? DONE, ...(partial ? { partial } : {}), ...(cutByUs ? { cutByUs } : {}) };
    } finally {
      over = true;
      clearTtft();
      clearTimeout(total);
      clearTimeout(linger);
    }
  }

  /**
   * A whole completion read (bounded, rewritten as any non-streamed answer, a large one off the api's thread) as
   * events; MalformedAnswer if it is not a JSON object with choices, so that the call is retried or falls back. Its
   * headers were its first byte: the time-to-first-byte limit ends (`clearTtft`) before it is read.
   */
  private async asEvents(chunks: AsyncIterable<Buffer>, model: Model, ac: AbortController, call: UpstreamCall, clearTtft: () => void): Promise<Buffer> {
    clearTtft();
    const done = await this.completions.rewrite(await bodyBytes(chunks), model.id, 'events', ac.signal, call.tenant);
    return Buffer.from(done.bytes.buffer, done.bytes.byteOffset, done.bytes.byteLength);
  }

  /** Commits the answer to streaming: status and headers go out. */
  private openStream(reply: FastifyReply, headers: Record<string, string>): ServerResponse {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...headers,
    });
    return res;
  }

  /**
   * Buffers the usage event of the call (a routed call's id is `usage:<decision>`, so at most one per decision), and
   * one per wasted answer (`<call's id>:unused:<n>`). Never fails the call.
   */
  private recordUsage(
    caller: Principal,
    owner: UsageOwner,
    fallbackModel: string,
    model: Model | null,
    a: Answered | null,
    attempts: Attempt[],
    wasted: Wasted[],
  ): void {
    const trace = traceCarrier();
    this.usage.record(caller, usageJob(owner, fallbackModel, model, a, attempts, trace));
    wasted.forEach((w, n) => this.usage.record(caller, wastedUsageJob(owner, w, n, trace)));
  }
}

/** What the controller knows of the request beyond its body. */
export interface ProxyContext {
  headers: Record<string, string | string[] | undefined>;
  requestId: string;
}

/**
 * On the OpenAI-compatible path the policy is named by `model`: an unknown (or not allowed) policy is an unknown
 * model, named as the caller wrote it, and any error about the policy names the field `model`.
 */
function asModelField(err: unknown, model: string): unknown {
  if (!(err instanceof DomainError)) return err;
  if (err.code === 'POLICY_NOT_FOUND')
    return new DomainError('POLICY_NOT_FOUND', `model ${model} does not exist`, [{ path: 'model', message: 'unknown router' }]);
  if (!err.errors.some((e) => e.path === 'policy')) return err;
  const errors = err.errors.map((e) => (e.path === 'policy' ? { ...e, path: 'model' } : e));
  return new DomainError(err.code, err.message, errors, err.retryAfterSeconds);
}

const attemptErrors = (attempts: Attempt[]): FieldError[] =>
  attempts.map((a, i) => ({ path: `attempts.${i}`, message: `${a.model}: ${a.error ?? 'failed'}${a.status ? ` (${a.status})` : ''}` }));

/** Relays an upstream's own 4xx: its `error` object as it sent it, in the same envelope. */
function relayUpstreamError(reply: FastifyReply, headers: Record<string, string>, f: UpstreamFailure): void {
  const status = f.status ?? 502;
  void reply
    .status(status)
    .headers(headers)
    .send({ error: f.body ?? openAiError({ status, code: 'UPSTREAM_FAILED', detail: f.message }).error });
}

/** Resolves once `res` has room again ('drain'), or when waiting is moot (closed, or the attempt aborted). */
function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  if (res.destroyed || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
    signal.addEventListener('abort', done);
  });
}

/** A stream's whole-call limit: out of time while the client was not taking the stream is its slowness, not the model's. */
function streamDeadline(ac: AbortController, watch: StreamWatch, ms: number): NodeJS.Timeout {
  return setTimeout(() => {
    if (watch.waitingForClient) return ac.abort(new ClientGone('the client did not read the stream in time'));
    watch.outOfTime = !ac.signal.aborted;
    ac.abort(new Error('timeout'));
  }, ms);
}

/**
 * A relay whose events are held until `open` gives it the client's stream (the held ones go first; `open` answers
 * whether that write asks to wait). `n`: the choices the request asked for.
 */
function holdingRelay(model: string, limit: { bytes: number; setting: string }, hideUsage: boolean, n: unknown) {
  let res: ServerResponse | null = null;
  const held: string[] = [];
  const relay = new SseRelay(model, (text) => (res ? res.write(text) : held.push(text) > 0), limit, hideUsage);
  relay.expectedChoices = typeof n === 'number' ? n : 1;
  const open = (to: ServerResponse): boolean => {
    res = to;
    return to.write(held.join(''));
  };
  return { relay, open };
}

/**
 * The upstream's stream is over: an error event after the answer began (relayed as it came) or an answer it ended
 * before its end (a choice unfinished, no `[DONE]`) fails the call though its stream was sent; a complete answer
 * ends with `[DONE]` for the client, also when its upstream left it out.
 */
function endStream(relay: SseRelay, res: ServerResponse): void {
  relay.end();
  if (relay.sawError) throw new MalformedAnswer("the upstream's stream sent an error event after its answer began", true);
  if (!relay.sawDone && !relay.answerComplete) throw new Error("the upstream's stream ended before its answer did");
  res.end(relay.sawDone ? undefined : 'data: [DONE]\n\n');
}

/**
 * Relays the upstream's chunks after those held until the answer began (`flowingAtStart`: whether their write asked
 * to wait) until it ends, reading the next one only once the client has taken the previous ones (`watch` says when
 * the relay is held up by the client, and when the upstream last sent bytes).
 */
async function relayAll(
  chunks: AsyncGenerator<Buffer, void, undefined>,
  relay: SseRelay,
  flowingAtStart: boolean,
  res: ServerResponse,
  ac: AbortController,
  watch: StreamWatch,
): Promise<void> {
  let flowing = flowingAtStart;
  for (;;) {
    if (!flowing) {
      watch.waitingForClient = true;
      await drained(res, ac.signal);
      watch.waitingForClient = false;
    }
    const next = await chunks.next();
    if (next.done) return;
    watch.lastChunkAt = performance.now();
    flowing = relay.push(next.value);
    if (relay.bytesAfterDetach > USAGE_AFTER_CLIENT_BYTES) {
      ac.abort(new ClientGone('the client went away; the upstream sent more than a usage chunk after the answer'));
      throw ac.signal.reason;
    }
  }
}

/**
 * The upstream request of a call to `model`: the caller's parameters and messages with the upstream's model name,
 * serialised here (a body that cannot be serialised fails before anything is sent, as our fault), the trace context
 * and request id in the headers.
 */
function upstreamRequest(model: Model, { endpoint, messages, params, requestId }: UpstreamCall, stream: boolean, signal: AbortSignal): UpstreamRequest {
  const upstreamModel = model.upstreamModel ?? model.id;
  const options = stream ? streamUsage(model, params).options : undefined;
  const body = JSON.stringify(
    endpoint === 'embeddings'
      ? { ...params, model: upstreamModel }
      : { ...params, messages, model: upstreamModel, stream, ...(options ? { stream_options: options } : {}) },
  );
  return {
    endpoint,
    body,
    // A chat's whole request (tools and every other parameter count); an embeddings request's input.
    inputEstimate: endpoint === 'embeddings' ? embeddingsInputTokens(params.input) : estimateTokens(Buffer.byteLength(body)),
    stream,
    signal,
    headers: { ...traceCarrier(), [REQUEST_ID_HEADER]: requestId },
    sent: false,
  };
}

/** The decided model first, then the other candidates by score: the order the proxy tries upstreams in. */
function fallbackOrder(dec: RouteResponse): string[] {
  return [
    dec.model,
    ...dec.scores
      .filter((s) => s.model !== dec.model)
      .sort((a, b) => b.score - a.score)
      .map((s) => s.model),
  ];
}

/** Refuses (400) parameters or messages nested deeper than any upstream call can be serialised with. */
function refuseTooDeep(params: Record<string, unknown>, messages: readonly Record<string, unknown>[]): void {
  const tooDeep = nestingErrors(params, messages);
  if (tooDeep.length > 0) throw new DomainError('VALIDATION', 'invalid body', tooDeep);
}

/** A chat completion's upstream call, streamed or not. */
function chatCall(
  caller: Principal,
  messages: unknown[],
  params: Record<string, unknown>,
  stream: boolean | undefined,
  reply: FastifyReply,
  requestId: string,
): UpstreamCall {
  return { endpoint: 'chat/completions', messages, params, stream: stream === true, reply, requestId, tenant: caller.owner };
}
