import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { newEscalationEpoch } from './escalation-epoch.js';
import { FEATURIZER_VERSION } from '@app/featurizer';
import { Logger } from '@app/infra';
import { PoliciesRepository } from '@app/persistence';
import { PolicyStateStore, RegistryStore } from '@app/store';
import { PolicyCache } from '../routing/policy-cache.service.js';

const RETRY_MS = 30_000;

/**
 * A new built-in featurizer puts prompts in another feature space: statistics learnt with the old one would be
 * read against vectors they never saw. At start, every policy on the built-in featurizer whose recorded version is
 * not this build's starts a new epoch (learning state and prior dropped, audited as a reset by
 * `featurizer-upgrade`), once, whichever replica gets there first, and never backwards. A policy state left at an
 * older epoch than its policy (a new epoch committed, its state not yet emptied) is started over too. Retried
 * while Postgres or Redis is away.
 */
@Injectable()
export class FeaturizerUpgrade implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(
    private readonly policies: PoliciesRepository,
    private readonly state: PolicyStateStore,
    private readonly registry: RegistryStore,
    private readonly cache: PolicyCache,
    logger: Logger,
  ) {
    this.log = logger.child('featurizer-upgrade');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.run();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** Upgrades what needs it; on failure tries again later. Returns the names of the policies it upgraded. */
  async run(): Promise<string[]> {
    try {
      const upgraded: string[] = [];
      const policies = await this.policies.list();
      for (const p of policies) {
        if (p.features.source !== 'builtin' || (p.features.version ?? 1) >= FEATURIZER_VERSION) continue;
        const next = await this.policies.upgradeFeaturizer(p.name, FEATURIZER_VERSION, 'featurizer-upgrade');
        if (!next) continue;
        await this.state.replace(this.state.policyTarget(next.name), next.epoch, new Map());
        await this.registry.putPolicy(next);
        if (next.cascade) await newEscalationEpoch({ policies: this.policies, state: this.state, registry: this.registry }, next, 'featurizer-upgrade');
        upgraded.push(next.name);
        this.log.warn('policy moved to a new featurizer version: learning starts a new epoch', {
          policy: next.name,
          from: p.features.version ?? 1,
          to: FEATURIZER_VERSION,
          epoch: next.epoch,
        });
      }
      // A replica that committed a new epoch but died (or lost Redis) before emptying the state leaves state of an
      // older epoch behind its policy: the worker would refuse every new event as stale. Start that state over.
      const versions = await this.state.versions(policies.map((p) => p.name));
      for (const [i, p] of policies.entries()) {
        const epoch = versions[i].epoch;
        if (epoch === null || epoch >= p.epoch || upgraded.includes(p.name)) continue;
        await this.state.replace(this.state.policyTarget(p.name), p.epoch, new Map());
        await this.registry.putPolicy(p);
        upgraded.push(p.name);
        this.log.warn('policy state of an older epoch replaced by an empty one of the current epoch', { policy: p.name, stateEpoch: epoch, epoch: p.epoch });
      }
      if (upgraded.length > 0) await this.cache.refresh().catch(() => undefined);
      return upgraded;
    } catch (err) {
      this.log.warn('featurizer upgrade deferred', { error: (err as Error).message, retryInMs: RETRY_MS });
      this.timer = setTimeout(() => void this.run(), RETRY_MS);
      this.timer.unref();
      return [];
    }
  }
}
