import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { directUsageEventId, type EmbeddingFallbackReason, type Model, type Policy, type Principal } from '@app/contracts';
import { biasOnlyContext, FEATURIZE_HEAD_CHARS, FEATURIZE_TAIL_CHARS, projectEmbedding, projectionSeed, textView } from '@app/featurizer';
import { CONFIG, Logger, traceCarrier } from '@app/infra';
import { type ApiEnv } from '../config.js';
import { MetricsService } from '../observability/metrics.service.js';
import { usageJob } from '../proxy/usage-job.js';
import { embeddingsInputTokens, usageTokens } from '../proxy/usage-tokens.js';
import { UsageRecorder } from '../proxy/usage-recorder.service.js';
import { EmbeddingCache } from './embedding-cache.js';
import { EmbeddingFailure, EmbeddingsClient } from './embeddings-client.js';
import { originOf, TenantShare } from '../proxy/tenant-share.js';
import { PolicyCache } from './policy-cache.service.js';

/** The context of one request of an embeddings policy: its projected embedding, or the bias alone (fallback). */
export type EmbeddedContext = { x: Float64Array; source: 'embeddings' } | { x: Float64Array; source: 'fallback'; reason: EmbeddingFallbackReason };

/**
 * Contexts of `features.source: "embeddings"` policies: the text the builtin featurizer would read is embedded
 * by the policy's embeddings model and projected to the policy's dim by its fixed projection (libs/featurizer
 * projection.ts). Projected contexts are cached by a hash of (owner, model, projection, text), so one tenant can
 * never tell from a route's speed what another sent; concurrent requests of one owner with the same text share one
 * upstream call, which is charged to the key that made it (its limits and usage report, as a direct call of the
 * embeddings model). The wait is bounded by EMBEDDINGS_TIMEOUT_MS: after it, or on any failure, the answer is the
 * fallback (the bias alone), which the caller must not learn from.
 */
@Injectable()
export class EmbeddingFeatures implements OnApplicationShutdown {
  private readonly client: EmbeddingsClient;
  /** Each tenant's calls hold at most a share of an embeddings upstream's connections (as proxied calls do). */
  private readonly shares: TenantShare;
  private readonly cache: EmbeddingCache;
  private readonly inflight = new Map<string, Promise<Float64Array>>();
  /** Last outcome per model, so a failing upstream is logged when it starts and stops failing, not per request. */
  private readonly lastOutcome = new Map<string, string>();
  private readonly log: Logger;

  constructor(
    private readonly policies: PolicyCache,
    private readonly metrics: MetricsService,
    private readonly usage: UsageRecorder,
    @Inject(CONFIG) private readonly env: ApiEnv,
    @Inject(Logger) logger: Logger,
  ) {
    this.client = new EmbeddingsClient(env.UPSTREAM_KEY_ENV_PREFIX);
    this.shares = new TenantShare(this.client.connections, env.PROXY_TENANT_SHARE);
    this.cache = new EmbeddingCache(env.EMBEDDINGS_CACHE_ENTRIES, env.EMBEDDINGS_CACHE_BYTES);
    this.log = logger.child('embeddings');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }

  /** Never throws for the upstream's sake: every failure is a fallback. */
  async context(policy: Policy, text: string, caller: Principal): Promise<EmbeddedContext> {
    const dim = policy.features.dim;
    const modelId = policy.features.model ?? '';
    const model = this.policies.model(modelId);
    if (!model?.baseUrl || model.enabled === false) {
      const why = !model ? 'is not registered' : !model.baseUrl ? 'has no baseUrl' : 'is disabled';
      return this.fallback(policy, modelId, new EmbeddingFailure('config', `model ${modelId} ${why}`), 0);
    }
    const view = textView(text, FEATURIZE_HEAD_CHARS, FEATURIZE_TAIL_CHARS);
    const seed = projectionSeed(policy.name, dim);
    const key = cacheKey(caller.owner, model, seed, dim, view);
    const hit = this.cache.get(key);
    if (hit) {
      this.metrics.embeddingsCache.inc({ result: 'hit' });
      return { x: hit, source: 'embeddings' };
    }
    const shared = this.inflight.get(key);
    this.metrics.embeddingsCache.inc({ result: shared ? 'shared' : 'miss' });
    const t0 = performance.now();
    try {
      const x = await (shared ?? this.fetch(key, model, view, seed, dim, caller));
      return { x, source: 'embeddings' };
    } catch (err) {
      const failure = err instanceof EmbeddingFailure ? err : new EmbeddingFailure('error', String(err));
      // A call not made (the caller's share in use) says nothing of the upstream: counted by reason only.
      return this.fallback(policy, model.id, failure, performance.now() - t0, !shared && failure.reason !== 'busy');
    }
  }

  /**
   * One upstream call, its projection and its cache entry; shared by concurrent requests for the same key. Charged
   * to `caller` once the upstream answered (also when its answer could not be used).
   */
  private fetch(key: string, model: Model, view: string, seed: number, dim: number, caller: Principal): Promise<Float64Array> {
    const release = this.shares.take(originOf(model.baseUrl!), caller.owner);
    // Beyond its share, a tenant's route decides without the embedding at once, leaving the other tenants the pool.
    if (!release) return Promise.reject(new EmbeddingFailure('busy', `this caller's share of ${model.id}'s connections is in use`));
    const t0 = performance.now();
    const call = this.client
      .embed(model, view, AbortSignal.timeout(this.env.EMBEDDINGS_TIMEOUT_MS))
      .finally(release)
      .then(
        (e) => {
          this.charge(caller, model, view, e.reportedTokens, performance.now() - t0, null);
          const x = projectEmbedding(e.embedding, dim, seed);
          this.cache.set(key, x);
          this.observe(model.id, 'ok', performance.now() - t0);
          return x;
        },
        (err: unknown) => {
          if (err instanceof EmbeddingFailure && err.made) this.charge(caller, model, view, undefined, performance.now() - t0, err.message);
          throw err;
        },
      )
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, call);
    return call;
  }

  /** The usage of one embeddings call made for a route: the text's tokens (reported, else estimated) at the input price. */
  private charge(caller: Principal, model: Model, view: string, reported: unknown, ms: number, error: string | null): void {
    const inputTokens = usageTokens(reported, () => embeddingsInputTokens(view));
    const owner = { eventId: directUsageEventId(randomBytes(15).toString('base64url')), keyId: caller.keyId };
    const answered = { model: model.id, inputTokens, outputTokens: 0, latencyMs: ms, ttftMs: null, ...(error === null ? {} : { partial: true as const }) };
    const attempt = { model: model.id, ok: error === null, status: 200, error, ms };
    this.usage.record(caller, usageJob(owner, model.id, model, answered, [attempt], traceCarrier()));
  }

  private fallback(policy: Policy, model: string, failure: EmbeddingFailure, ms: number, observe = true): EmbeddedContext {
    if (observe) this.observe(model, failure.reason, ms, failure.message);
    this.metrics.featureFallbacks.inc({ policy: policy.name, reason: failure.reason });
    return { x: biasOnlyContext(policy.features.dim), source: 'fallback', reason: failure.reason };
  }

  private observe(model: string, outcome: 'ok' | EmbeddingFallbackReason, ms: number, message?: string): void {
    this.metrics.embeddingsCalls.inc({ model, outcome });
    if (outcome !== 'config') this.metrics.embeddingsSeconds.observe({ model, outcome }, ms / 1000);
    const before = this.lastOutcome.get(model);
    if (before === outcome) return;
    this.lastOutcome.set(model, outcome);
    if (outcome !== 'ok') this.log.warn('embeddings unavailable: routes decide without them', { model, outcome, error: message });
    else if (before !== undefined) this.log.info('embeddings available again', { model });
  }
}

/**
 * The cache key: SHA-256 of whose it is and what determines the vector (the model as called, the projection, the
 * text), so a changed model config or policy never reuses another's vectors, no tenant's text answers another's
 * route, and no prompt text is kept as a key.
 */
function cacheKey(owner: string, model: Model, seed: number, dim: number, text: string): string {
  return createHash('sha256')
    .update(`${owner.length}:${owner}\n${model.id}\n${model.baseUrl ?? ''}\n${model.upstreamModel ?? ''}\n${seed}\n${dim}\n`)
    .update(text)
    .digest('hex');
}
