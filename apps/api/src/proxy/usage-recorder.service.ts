import { Injectable } from '@nestjs/common';
import { type Principal, type UsageJob } from '@app/contracts';
import { KeyLimitsService } from '../limits/key-limits.service.js';
import { MetricsService } from '../observability/metrics.service.js';
import { DecisionFlusher } from '../routing/decision-flusher.service.js';

/**
 * Where the usage of every proxied and direct call goes: queued as a usage event (the worker stores it, and
 * learns from it when it belongs to a decision), charged to the calling key's token and spend limits, and counted
 * in the per-key usage metrics. Never fails the call.
 */
@Injectable()
export class UsageRecorder {
  constructor(
    private readonly flusher: DecisionFlusher,
    private readonly limits: KeyLimitsService,
    private readonly metrics: MetricsService,
  ) {}

  record(caller: Principal, job: UsageJob): void {
    this.flusher.pushUsage(job);
    this.limits.charge(caller, job.inputTokens + job.outputTokens, job.costUsd);
    this.count(caller, job);
  }

  private count(caller: Principal, job: UsageJob): void {
    const m = this.metrics;
    const labels = m.keyUsageLabels.labels({ key: caller.owner, model: job.model });
    m.keyCalls.inc(labels);
    if (job.inputTokens > 0) m.keyTokens.inc({ ...labels, direction: 'input' }, job.inputTokens);
    if (job.outputTokens > 0) m.keyTokens.inc({ ...labels, direction: 'output' }, job.outputTokens);
    if (job.costUsd) m.keyCostUsd.inc(labels, job.costUsd);
    if (job.energyEstimateJ) m.keyEnergyJoules.inc(labels, job.energyEstimateJ);
  }
}
