import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { QUEUE_NAME } from '@app/contracts';
import { DeadLettersRepository } from '@app/persistence';
import { type Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PolicyCache } from '../routing/policy-cache.service.js';
import { BreakerService } from '../breakers/breakers.service.js';
import { LabelCap } from './label-cap.js';

/** Distinct (key, model) label pairs of the per-key usage metrics kept per replica. */
export const KEY_USAGE_SERIES = 1000;

/** Prometheus metrics of one api replica (`GET /metrics`). Labels are policy and model ids, never prompt text. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly decisions = new Counter({
    name: 'router_decisions_total',
    help: 'Routing decisions',
    labelNames: ['policy', 'model', 'mode'],
    registers: [this.registry],
  });
  readonly decisionSeconds = new Histogram({
    name: 'router_decision_duration_seconds',
    help: 'Time to decide (featurize, score, pick), per request',
    labelNames: ['policy'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [this.registry],
  });
  readonly httpSeconds = new Histogram({
    name: 'router_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern (never the URL) and status, until the response is over',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers: [this.registry],
  });
  readonly feedback = new Counter({
    name: 'router_feedback_events_total',
    help: 'Feedback, pairwise and energy events by outcome',
    labelNames: ['kind', 'status'],
    registers: [this.registry],
  });
  readonly rewards = new Counter({
    name: 'router_reward_sum_total',
    help: 'Sum of accepted rewards (thumb up = 1)',
    labelNames: ['policy'],
    registers: [this.registry],
  });
  readonly energy = new Counter({ name: 'router_energy_joules_total', help: 'Joules reported by accepted energy readings', registers: [this.registry] });
  readonly upstreamSeconds = new Histogram({
    name: 'router_upstream_duration_seconds',
    help: 'Upstream call time (whole answer) by model, endpoint (chat/completions, embeddings) and outcome',
    labelNames: ['model', 'endpoint', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'router_upstream_errors_total',
    help: 'Failed upstream attempts by model, endpoint and reason',
    labelNames: ['model', 'endpoint', 'reason'],
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({
    name: 'router_fallbacks_total',
    help: 'Requests answered by another model than the decision chose',
    labelNames: ['policy'],
    registers: [this.registry],
  });
  readonly proxyFailures = new Counter({
    name: 'router_proxy_all_failed_total',
    help: 'Proxy requests where every candidate failed (502)',
    labelNames: ['policy'],
    registers: [this.registry],
  });
  readonly embeddingsCalls = new Counter({
    name: 'router_embeddings_calls_total',
    help: 'Embeddings upstream calls of embeddings policies by outcome (ok, timeout, error; config: not callable as configured)',
    labelNames: ['model', 'outcome'],
    registers: [this.registry],
  });
  readonly embeddingsSeconds = new Histogram({
    name: 'router_embeddings_duration_seconds',
    help: 'Embeddings upstream call time (until the answer, the time limit or the failure) by model and outcome',
    labelNames: ['model', 'outcome'],
    buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly embeddingsCache = new Counter({
    name: 'router_embeddings_cache_total',
    help: 'Context lookups of embeddings policies: hit (cached), shared (joined a call in flight), miss (called the upstream)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly featureFallbacks = new Counter({
    name: 'router_feature_fallbacks_total',
    help: 'Decisions of embeddings policies taken without the embedding (bias-only context, not learnt), by reason',
    labelNames: ['policy', 'reason'],
    registers: [this.registry],
  });
  readonly connectionsDropped = new Counter({
    name: 'router_http_connections_dropped_total',
    help: 'Client connections closed on arrival because the replica held MAX_CONNECTIONS already',
    registers: [this.registry],
  });
  readonly keyLimitRefusals = new Counter({
    name: 'router_key_limit_refusals_total',
    help: 'Requests refused (429) because their key was over one of its limits, by limit',
    labelNames: ['limit'],
    registers: [this.registry],
  });
  readonly keyCalls = new Counter({
    name: 'router_key_calls_total',
    help: 'Usage events by key name and model: proxied and direct calls (the model that answered, else the pick), unusable upstream answers, embeddings calls of routes; see keyUsageLabels',
    labelNames: ['key', 'model'],
    registers: [this.registry],
  });
  readonly keyTokens = new Counter({
    name: 'router_key_tokens_total',
    help: 'Tokens of proxied and direct calls by key name, model and direction (input, output)',
    labelNames: ['key', 'model', 'direction'],
    registers: [this.registry],
  });
  readonly keyCostUsd = new Counter({
    name: 'router_key_cost_usd_total',
    help: "USD of proxied and direct calls by key name and model (the model's pricing)",
    labelNames: ['key', 'model'],
    registers: [this.registry],
  });
  readonly keyEnergyJoules = new Counter({
    name: 'router_key_energy_joules_total',
    help: 'Estimated joules (registry J/output token x output tokens) of proxied and direct calls by key name and model',
    labelNames: ['key', 'model'],
    registers: [this.registry],
  });
  /**
   * The label values of the per-key series: key names and model ids are sets admins create (a caller cannot name
   * a model outside the registry, nor a key), and at most KEY_USAGE_SERIES combinations per replica are kept
   * apart; later ones are counted as `(other)`.
   */
  readonly keyUsageLabels = new LabelCap(KEY_USAGE_SERIES);
  readonly keyLimitsUnenforced = new Counter({
    name: 'router_key_limits_unenforced_total',
    help: 'Key limit checks (admit) and charges (charge) skipped because Redis did not answer in time: requests let through',
    labelNames: ['op'],
    registers: [this.registry],
  });

  /** The breakers' gauges and counters, read from this replica's BreakerService at each scrape. */
  private breakerMetrics(breakers: BreakerService, cache: PolicyCache): void {
    const outcomes = (name: string, help: string, counts: BreakerService['probeCounts']) =>
      new Counter({
        name,
        help,
        labelNames: ['breaker', 'outcome'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const [breaker, byOutcome] of counts) for (const [outcome, n] of Object.entries(byOutcome)) this.inc({ breaker, outcome }, n);
        },
      });
    new Gauge({
      name: 'router_breaker_open',
      help: 'Circuit breaker per model: 1 open, 0 closed',
      labelNames: ['model'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const id of cache.modelIds()) this.set({ model: id }, breakers.state(id).state === 'open' ? 1 : 0);
      },
    });
    outcomes(
      'router_breaker_probes_total',
      "The router's own half-open probes of models whose breaker was open past its cool-down, by breaker and outcome (up, down, none)",
      breakers.probeCounts,
    );
    outcomes(
      'router_breaker_checks_total',
      "The router's own checks of models whose failures in a row (the model's, or one tenant's) reached the threshold, by breaker and outcome (up, down, none)",
      breakers.checkCounts,
    );
    new Counter({
      name: 'router_breaker_tenant_outs_total',
      help: "Tenants put out of a model for a cool-down: their own calls' failures reached the threshold while the model answered the router's health check",
      labelNames: ['breaker'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [breaker, n] of breakers.tenantOuts) this.inc({ breaker }, n);
      },
    });
  }

  constructor(@InjectQueue(QUEUE_NAME) queue: Queue, breakers: BreakerService, cache: PolicyCache, letters: DeadLettersRepository) {
    collectDefaultMetrics({ register: this.registry, prefix: 'router_' });
    new Gauge({
      name: 'router_dead_letters',
      help: 'Items the worker set aside because Postgres refused their data or they did not parse (GET /admin/dead-letters lists them)',
      registers: [this.registry],
      async collect() {
        try {
          this.set(await letters.count());
        } catch {
          // Postgres away: the gauge keeps its last value; readiness reports the outage.
        }
      },
    });
    this.breakerMetrics(breakers, cache);
    new Gauge({
      name: 'router_queue_jobs',
      help: 'Event queue jobs by state',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        try {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
        } catch {
          // Redis away: the gauge keeps its last values; readiness reports the outage.
        }
      },
    });
    new Gauge({
      name: 'router_queue_lag_seconds',
      help: 'Age of the oldest waiting event job (0 when none waits)',
      registers: [this.registry],
      async collect() {
        try {
          const [oldest] = await queue.getJobs(['waiting', 'prioritized'], 0, 0, true);
          this.set(oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
        } catch {
          // as above
        }
      },
    });
  }
}
