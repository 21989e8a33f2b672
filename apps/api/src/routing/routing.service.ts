import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { applyLocalDecision, type ArmEstimate, createRng, linearEstimates, type Rng } from '@app/bandits';
import {
  type DecisionCascade,
  type DecisionFeatureSource,
  type DecisionRecord,
  type EmbeddingFallbackReason,
  isEscalationPolicyName,
  type Principal,
  type RouteRequest,
  type RouteResponse,
} from '@app/contracts';
import { DomainError } from '@app/errors';
import { featurize, messagesText } from '@app/featurizer';
import { Logger } from '@app/infra';
import { decidePolicy, type PolicyRuntime, recordPendingSpend } from '@app/learning';
import { DecisionHotStore } from '@app/store';
import { assertPolicyAccess } from '../auth/scopes.js';
import { DecisionFlusher } from './decision-flusher.service.js';
import { RandomIds } from '../random-ids.js';
import { EmbeddingFeatures } from './embedding-features.service.js';
import { OwedHotCopies } from './owed-hot-copies.service.js';
import { PolicyCache } from './policy-cache.service.js';
import { SequentialStateService } from './sequential-state.service.js';
import { BreakerService } from '../breakers/breakers.service.js';
import { MetricsService } from '../observability/metrics.service.js';

const HOT_COPY_MARGIN_S = 3600;
/** How long a fallback's answer waits for its copy to replace the pick's written early, trying every 20 ms. */
const STALE_COPY_RETRY_MS = 1000;
const STALE_COPY_RETRY_EVERY_MS = 20;
const hotCopyOf = (record: DecisionRecord): DecisionRecord => ({ ...record, estimates: [] });

/**
 * An arm's estimates as the decision record keeps them: without a value that is not a finite number (a policy
 * whose statistics reach the limits of floating point, e.g. a ridge near 0 with features near their bound), which no
 * record may carry; the answer shows it as null.
 */
function finiteOnly(e: Record<string, string | number>): Record<string, string | number> {
  for (const k in e) {
    const v = e[k];
    if (typeof v === 'number' && !Number.isFinite(v))
      return Object.fromEntries(Object.entries(e).filter(([, u]) => typeof u === 'string' || Number.isFinite(u)));
  }
  return e; // the common case: shared with the answer's scores, which nothing changes
}
/** A decision's per-arm estimates as the answer shows them. */
const scoresOf = (estimates: readonly ArmEstimate[], arms: readonly string[]) =>
  estimates.map((e) => ({
    model: arms[e.arm],
    score: e.score,
    quality: e.quality,
    bonus: e.bonus,
    energyJoules: e.energy,
    costUsd: e.cost,
    latencyMs: e.latency,
  }));
const hotCopyTtl = (rt: PolicyRuntime) => rt.policy.feedback.windowSeconds + HOT_COPY_MARGIN_S;

/** A decision made and answered, not yet recorded (see RoutingService.decide). */
export interface PendingDecision {
  response: RouteResponse;
  /**
   * Writes the pick's hot copy now, before the call it decides is made, so that recording the pick afterwards waits
   * for no Redis round trip (a fallback's record overwrites it). Nothing is learnt or logged until `record`.
   */
  prewrite(): void;
  record(answered?: string): Promise<void>;
  /**
   * Records the decision as one whose call produced no answer (a proxied call every attempt of which failed, or
   * whose upstream's 4xx was relayed): stored without its context, like an embeddings fallback's, so that nothing
   * is learnt from it (no pull, no A update, and its feedback or default reward teaches nothing). Instead of
   * `record`, exactly once.
   */
  recordUnserved(): Promise<void>;
}

/** A hot copy written ahead of its record (PendingDecision.prewrite): of which record, and Redis's error if any. */
interface EarlyCopy {
  record: DecisionRecord;
  written: Promise<Error | undefined>;
}

/**
 * Decisions: featurize → decidePolicy on the in-memory copy (the replay harness's decision function too) → hot copy
 * in Redis → batched durable record.
 */
@Injectable()
export class RoutingService {
  private readonly rng: Rng = createRng(randomBytes(4).readUInt32LE(0));
  private readonly ids = new RandomIds('dec_');
  private readonly scratch = new Float64Array(1024);
  private readonly log: Logger;
  redisWriteFailures = 0;

  constructor(
    private readonly cache: PolicyCache,
    private readonly hot: DecisionHotStore,
    private readonly flusher: DecisionFlusher,
    private readonly owed: OwedHotCopies,
    private readonly sequential: SequentialStateService,
    private readonly breakers: BreakerService,
    private readonly metrics: MetricsService,
    private readonly embeddings: EmbeddingFeatures,
    @Inject(Logger) logger: Logger,
  ) {
    this.log = logger.child('routing');
  }

  /** A decision, recorded at once (what `/v1/route` answers). */
  async route(caller: Principal, req: RouteRequest): Promise<RouteResponse> {
    const d = await this.decide(caller, req);
    await d.record();
    return d.response;
  }

  /**
   * A decision not yet recorded: `record(answered)` records it (hot copy, local state, durable log) as the
   * decision of `answered` when a fallback model answered instead of the policy's pick (the proxy records once
   * it knows which model answers, before anything reaches the client), else of the pick. Call it exactly once.
   */
  async decide(caller: Principal, req: RouteRequest): Promise<PendingDecision> {
    assertPolicyAccess(caller, req.policy);
    if (isEscalationPolicyName(req.policy))
      throw new DomainError('VALIDATION', `${req.policy} is an escalation policy: it decides through POST /v1/route/{decisionId}/continue`, [
        { path: 'policy', message: 'an escalation policy' },
      ]);
    const rt = this.cache.get(req.policy);
    if (!rt && this.cache.compileError(req.policy) !== undefined)
      throw new DomainError('UNAVAILABLE', `policy ${req.policy} cannot be served now: its learnt state could not be read or compiled here`, [], 30);
    if (!rt) throw new DomainError('POLICY_NOT_FOUND', `policy ${req.policy} does not exist`, [{ path: 'policy', message: 'unknown policy' }]);
    const t0 = process.hrtime.bigint();
    const candidates = this.candidates(rt, req.candidates, caller.owner);
    const embedded = rt.policy.features.source === 'embeddings' ? await this.embeddings.context(rt.policy, this.text(rt, req), caller) : null;
    const x = embedded?.x ?? this.context(rt, req);
    // A fallback decided from the bias alone, not from the request: its context is stored empty, so that neither
    // this replica's fold nor the worker learns from it (ALGORITHMS.md, embeddings).
    const learnable = embedded?.source !== 'fallback';
    const featureSource = embedded?.source ?? rt.policy.features.source;
    const meta = { featureSource, learnable, ...(embedded?.source === 'fallback' ? { featureFallbackReason: embedded.reason } : {}) };
    return this.pending(caller, rt, x, candidates, req.mode, meta, t0);
  }

  /**
   * A decision of `rt` on a context already built (the steps of a cascade: the router's escalation target, the
   * escalation policy's accept/escalate), among `candidates` (arm indices); `cascadeFor(chosen model)` is stored with it.
   * `chosen`: the choice was made elsewhere (decideEscalationStep), with that propensity. `learnable: false`: the
   * context is not the request's (stored empty, nothing learnt from it, as an embeddings fallback).
   */
  decideOn(
    caller: Principal,
    rt: PolicyRuntime,
    x: Float64Array,
    candidates: number[],
    opts: { cascadeFor?: (arm: string, id: string) => DecisionCascade; chosen?: { arm: number; propensity: number }; learnable?: boolean } = {},
  ): PendingDecision {
    const learnable = opts.learnable ?? true;
    const meta = { ...opts, featureSource: learnable ? rt.policy.features.source : ('fallback' as const), learnable };
    return this.pending(caller, rt, x, candidates, 'single', meta, process.hrtime.bigint());
  }

  /** The arms of `rt` among `names` that `tenant` can call now: enabled, their circuit breaker not open for it. */
  callableArms(rt: PolicyRuntime, names: readonly string[], tenant: string): number[] {
    return names.flatMap((m) => {
      const i = rt.armIndex.get(m);
      return i !== undefined && this.cache.model(m)?.enabled !== false && !this.breakers.excluded(m, tenant) ? [i] : [];
    });
  }

  private pending(
    caller: Principal,
    rt: PolicyRuntime,
    x: Float64Array,
    candidates: number[],
    mode: RouteRequest['mode'],
    meta: {
      featureSource: DecisionFeatureSource;
      learnable: boolean;
      featureFallbackReason?: EmbeddingFallbackReason;
      cascadeFor?: (arm: string, id: string) => DecisionCascade;
      chosen?: { arm: number; propensity: number };
    },
    t0: bigint,
  ): PendingDecision {
    const { featureSource, learnable } = meta;
    const dec = meta.chosen
      ? { ...meta.chosen, arms: [meta.chosen.arm], estimates: linearEstimates(rt.model, x, candidates, false) }
      : decidePolicy(rt, this.sequential.state(rt), { x, candidates, mode, nowMs: Date.now() }, this.rng);
    const arms = rt.policy.arms;
    const id = this.ids.id();
    const scores = scoresOf(dec.estimates, arms);
    const decided: DecisionRecord = {
      id,
      policy: rt.policy.name,
      epoch: rt.policy.epoch,
      policyVersion: rt.policy.version,
      arm: arms[dec.arm],
      armIndex: dec.arm,
      propensity: dec.propensity,
      x: learnable ? Array.from(x) : [],
      featureSource,
      owner: caller.owner,
      mode,
      ...(dec.arms.length === 2 ? { arms: dec.arms.map((a) => arms[a]) } : {}),
      estimates: scores.map(finiteOnly),
      createdAt: Date.now(),
      ...(meta.cascadeFor ? { cascade: meta.cascadeFor(arms[dec.arm], id) } : {}),
    };
    this.metrics.decisionSeconds.observe({ policy: rt.policy.name }, Number(process.hrtime.bigint() - t0) / 1e9);
    for (const a of dec.arms) this.metrics.decisions.inc({ policy: rt.policy.name, model: arms[a], mode });
    const served = (answered?: string): number[] => {
      const i = answered === undefined || dec.arms.length !== 1 ? -1 : arms.indexOf(answered);
      return i < 0 ? dec.arms : [i];
    };
    let early: EarlyCopy | undefined;
    return {
      response: {
        decisionId: id,
        policy: rt.policy.name,
        policyVersion: rt.policy.version,
        algorithm: rt.algorithm,
        model: arms[dec.arm],
        models: dec.arms.map((a) => arms[a]),
        propensity: dec.propensity,
        scores,
        featureSource,
        ...(meta.featureFallbackReason ? { featureFallbackReason: meta.featureFallbackReason } : {}),
      },
      prewrite: () => {
        early ??= { record: decided, written: this.writeHotCopy(rt, decided) };
      },
      record: (answered?: string) => {
        const [armIndex, ...rest] = served(answered);
        const record: DecisionRecord =
          rest.length === 0 && armIndex !== dec.arm ? { ...decided, arm: arms[armIndex], armIndex, fallbackFrom: decided.arm } : decided;
        if (rt.algorithm !== 'random' && learnable) for (const a of served(answered)) applyLocalDecision(rt.model, a, x, this.scratch);
        for (const e of dec.estimates) if (served(answered).includes(e.arm)) recordPendingSpend(rt, e);
        return this.record(rt, record, early);
      },
      recordUnserved: () => this.record(rt, { ...decided, x: [] }, early),
    };
  }

  /**
   * The hot copy (what feedback joins; not the estimates, which go to the durable log only), then the log. A copy
   * written early stands when it is of this record (or its failure is this record's); one of another (a fallback
   * answered) is overwritten after it.
   */
  private async record(rt: PolicyRuntime, record: DecisionRecord, early?: EarlyCopy): Promise<void> {
    let failed: Error | undefined;
    if (early?.record === record) failed = await early.written;
    else {
      const stale = early !== undefined && (await early.written) === undefined;
      failed = await this.writeHotCopy(rt, record);
      // Redis holds the pick's copy: the answer waits a little for the fallback's to replace it (other replicas and
      // the worker read Redis's) before it goes out with the copy owed.
      const until = Date.now() + STALE_COPY_RETRY_MS;
      while (failed && stale && Date.now() < until) {
        await new Promise((r) => setTimeout(r, STALE_COPY_RETRY_EVERY_MS));
        failed = await this.writeHotCopy(rt, record);
      }
    }
    if (failed) this.owe(rt, record, failed);
    this.flusher.push(record);
  }

  /** Writes a decision's hot copy: undefined once Redis took it, else the error. */
  private writeHotCopy(rt: PolicyRuntime, record: DecisionRecord): Promise<Error | undefined> {
    return this.hot.put(hotCopyOf(record), hotCopyTtl(rt)).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
  }

  /**
   * Redis away: keep answering; the hot copy is written when Redis is back, the decision reaches the worker when the
   * queue is back.
   */
  private owe(rt: PolicyRuntime, record: DecisionRecord, err: Error): void {
    this.owed.add(hotCopyOf(record), hotCopyTtl(rt));
    this.redisWriteFailures++;
    if (this.redisWriteFailures % 1000 === 1) this.log.warn('decision hot copy not written', { error: err.message });
  }

  private context(rt: PolicyRuntime, req: RouteRequest): Float64Array {
    const dim = rt.policy.features.dim;
    if (rt.policy.features.source === 'caller') {
      if (!req.features)
        throw new DomainError('VALIDATION', `policy ${rt.policy.name} takes caller features`, [
          { path: 'features', message: `give features: an array of ${dim} numbers` },
        ]);
      if (req.features.length !== dim)
        throw new DomainError('FEATURES_MISMATCH', `features has ${req.features.length} values; the policy's dim is ${dim}`, [
          { path: 'features', message: `must have exactly ${dim} values` },
        ]);
      return Float64Array.from(req.features);
    }
    return featurize(this.text(rt, req), dim);
  }

  /** The text a policy that reads text (builtin, embeddings) reads; 400 when the request has only features. */
  private text(rt: PolicyRuntime, req: RouteRequest): string {
    if (req.features && req.input === undefined && req.messages === undefined)
      throw new DomainError('VALIDATION', `policy ${rt.policy.name} featurizes text`, [{ path: 'input', message: 'give input or messages' }]);
    return req.input ?? messagesText(req.messages ?? []);
  }

  private candidates(rt: PolicyRuntime, wanted: string[] | undefined, tenant: string): number[] {
    const enabled = (i: number) => this.cache.model(rt.policy.arms[i])?.enabled !== false;
    // Models behind an open circuit breaker leave routing while they cool down (unless nothing else is left), and
    // so do, for one tenant, models its own failures put it out of.
    const healthy = (list: number[]) => {
      const ok = list.filter((i) => !this.breakers.excluded(rt.policy.arms[i], tenant));
      return ok.length > 0 ? ok : list;
    };
    if (!wanted) {
      const all = rt.policy.arms.map((_, i) => i).filter(enabled);
      if (all.length === 0) throw new DomainError('UNAVAILABLE', `every model of policy ${rt.policy.name} is disabled`, [], 30);
      return healthy(all);
    }
    const out: number[] = [];
    wanted.forEach((m, k) => {
      const i = rt.armIndex.get(m);
      if (i === undefined)
        throw new DomainError('UNKNOWN_ARM', `candidate ${m} is not an arm of policy ${rt.policy.name}`, [
          { path: `candidates.${k}`, message: 'not an arm of this policy' },
        ]);
      if (enabled(i) && !out.includes(i)) out.push(i);
    });
    if (out.length === 0) throw new DomainError('UNKNOWN_ARM', 'every candidate is disabled', [{ path: 'candidates', message: 'no enabled candidate' }]);
    return healthy(out);
  }
}
