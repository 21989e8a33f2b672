import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { applyLocalDecision, createRng, decide, type Rng } from '@app/bandits';
import { type DecisionRecord, type Principal, type RouteRequest, type RouteResponse } from '@app/contracts';
import { DomainError } from '@app/errors';
import { featurize, messagesText } from '@app/featurizer';
import { Logger } from '@app/infra';
import { type PolicyRuntime } from '@app/learning';
import { DecisionHotStore } from '@app/store';
import { assertPolicyAccess } from '../auth/scopes.js';
import { DecisionFlusher } from './decision-flusher.service.js';
import { PolicyCache } from './policy-cache.service.js';

const HOT_COPY_MARGIN_S = 3600;

/** Decisions: featurize → decide from the in-memory copy → hot copy in Redis → batched durable record. */
@Injectable()
export class RoutingService {
  private readonly rng: Rng = createRng(randomBytes(4).readUInt32LE(0));
  /** Decision ids: a random per-process prefix and a counter (unique across replicas, no syscall per id). */
  private readonly idPrefix = `dec_${randomBytes(9).toString('base64url')}`;
  private idCounter = 0;
  private readonly scratch = new Float64Array(512);
  private readonly log: Logger;
  redisWriteFailures = 0;

  constructor(
    private readonly cache: PolicyCache,
    private readonly hot: DecisionHotStore,
    private readonly flusher: DecisionFlusher,
    @Inject(Logger) logger: Logger,
  ) {
    this.log = logger.child('routing');
  }

  async route(caller: Principal, req: RouteRequest): Promise<RouteResponse> {
    const rt = this.cache.get(req.policy);
    if (!rt) throw new DomainError('POLICY_NOT_FOUND', `policy ${req.policy} does not exist`, [{ path: 'policy', message: 'unknown policy' }]);
    assertPolicyAccess(caller, req.policy);
    const x = this.context(rt, req);
    const candidates = this.candidates(rt, req.candidates);
    const dec = decide(rt.algorithm, rt.model, x, candidates, rt.params, this.rng);
    const arms = rt.policy.arms;
    const id = `${this.idPrefix}${(this.idCounter++).toString(36)}`;
    const scores = dec.estimates.map((e) => ({
      model: arms[e.arm],
      score: e.score,
      quality: e.quality,
      bonus: e.bonus,
      energyJoules: e.energy,
      costUsd: e.cost,
      latencyMs: e.latency,
    }));
    const record: DecisionRecord = {
      id,
      policy: rt.policy.name,
      epoch: rt.policy.epoch,
      policyVersion: rt.policy.version,
      arm: arms[dec.arm],
      armIndex: dec.arm,
      propensity: dec.propensity,
      x: Array.from(x),
      owner: caller.owner,
      mode: 'single',
      estimates: scores as unknown as DecisionRecord['estimates'],
      createdAt: Date.now(),
    };
    if (rt.algorithm !== 'random') applyLocalDecision(rt.model, dec.arm, x, this.scratch);
    try {
      // The hot copy carries what feedback needs to join (not the estimates, which go to the durable log only).
      await this.hot.put({ ...record, estimates: [] }, rt.policy.feedback.windowSeconds + HOT_COPY_MARGIN_S);
    } catch (err) {
      // Redis away: keep answering; the decision still reaches the worker when the queue is back.
      this.redisWriteFailures++;
      if (this.redisWriteFailures % 1000 === 1) this.log.warn('decision hot copy not written', { error: (err as Error).message });
    }
    this.flusher.push(record);
    return {
      decisionId: id,
      policy: rt.policy.name,
      policyVersion: rt.policy.version,
      algorithm: rt.algorithm,
      model: arms[dec.arm],
      models: [arms[dec.arm]],
      propensity: dec.propensity,
      scores,
    };
  }

  private context(rt: PolicyRuntime, req: RouteRequest): Float64Array {
    const dim = rt.policy.features.dim;
    if (rt.policy.features.source === 'caller') {
      if (!req.features)
        throw new DomainError('VALIDATION', `policy ${rt.policy.name} takes caller features`, [{ path: 'features', message: `give features: an array of ${dim} numbers` }]);
      if (req.features.length !== dim)
        throw new DomainError('FEATURES_MISMATCH', `features has ${req.features.length} values; the policy's dim is ${dim}`, [
          { path: 'features', message: `must have exactly ${dim} values` },
        ]);
      return Float64Array.from(req.features);
    }
    if (req.features && req.input === undefined && req.messages === undefined)
      throw new DomainError('VALIDATION', `policy ${rt.policy.name} featurizes text`, [{ path: 'input', message: 'give input or messages' }]);
    const text = req.input ?? messagesText(req.messages ?? []);
    return featurize(text, dim);
  }

  private candidates(rt: PolicyRuntime, wanted: string[] | undefined): number[] {
    const enabled = (i: number) => this.cache.model(rt.policy.arms[i])?.enabled !== false;
    if (!wanted) {
      const all = rt.policy.arms.map((_, i) => i).filter(enabled);
      if (all.length === 0) throw new DomainError('UNAVAILABLE', `every model of policy ${rt.policy.name} is disabled`, [], 30);
      return all;
    }
    const out: number[] = [];
    wanted.forEach((m, k) => {
      const i = rt.armIndex.get(m);
      if (i === undefined)
        throw new DomainError('UNKNOWN_ARM', `candidate ${m} is not an arm of policy ${rt.policy.name}`, [{ path: `candidates.${k}`, message: 'not an arm of this policy' }]);
      if (enabled(i) && !out.includes(i)) out.push(i);
    });
    if (out.length === 0) throw new DomainError('UNKNOWN_ARM', 'every candidate is disabled', [{ path: 'candidates', message: 'no enabled candidate' }]);
    return out;
  }
}
