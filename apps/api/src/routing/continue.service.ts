import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { createRng, linearEstimates, type Rng } from '@app/bandits';
import {
  type ContinueRequest,
  type ContinueResponse,
  type DecisionCascade,
  type DecisionRecord,
  escalationPolicyName,
  imputedReward,
  type Principal,
  routerPolicyName,
} from '@app/contracts';
import { DomainError } from '@app/errors';
import { answerSignals, messagesText } from '@app/featurizer';
import { decideEscalationStep, escalationDim, escalationFeatures, escalationThreshold, type PolicyRuntime } from '@app/learning';
import { DecisionHotStore } from '@app/store';
import { mayUsePolicy } from '../auth/scopes.js';
import { DecisionLookup } from './decision-lookup.service.js';
import { PolicyCache } from './policy-cache.service.js';
import { RoutingService } from './routing.service.js';

const CLAIM_MARGIN_S = 3600;

/** Where a request's cascade stands when the answer of decision `dec` is examined. */
interface Standing {
  router: PolicyRuntime;
  /** The router decision the request started with (its context is the prompt's). */
  root: string;
  /** The router decision whose model gave the examined answer. */
  routerDecision: string;
  called: string[];
  answered: string;
  escalations: DecisionCascade['escalations'];
  /** The caller's tenant (a model its own failures put it out of is not callable for it). */
  tenant: string;
}

/**
 * `POST /v1/route/{decisionId}/continue` (ALGORITHMS.md §14): a product that calls models itself sends the answer
 * of a routed model; the router picks the escalation target among the dearer models not called yet (a router
 * decision, recorded only if used), and the policy's escalation policy decides, from the answer's signals, the
 * models involved and the prompt's context, whether to accept the answer or call the target. The escalation
 * decision is an ordinary decision of the escalation policy (propensity, hot copy, durable log, rebuilds): feedback
 * on the final answer sent to it teaches it, and the ingest passes the same reward on to the router decision whose
 * model gave the final answer. A decision is continued once (409 after that).
 */
@Injectable()
export class ContinueService {
  constructor(
    private readonly routing: RoutingService,
    private readonly cache: PolicyCache,
    private readonly lookup: DecisionLookup,
    private readonly hot: DecisionHotStore,
  ) {}

  private readonly rng: Rng = createRng(randomBytes(4).readUInt32LE(0));

  async continue(caller: Principal, decisionId: string, req: ContinueRequest): Promise<ContinueResponse> {
    return (await this.step(caller, decisionId, req)).response;
  }

  /** One cascade step; `routerDecision`: the router decision of the escalation target when it escalated (its usage goes there). */
  async step(caller: Principal, decisionId: string, req: ContinueRequest): Promise<{ response: ContinueResponse; routerDecision?: string }> {
    const dec = (await this.lookup.find([decisionId])).get(decisionId);
    if (!dec || (caller.scope !== 'admin' && dec.owner !== caller.owner)) throw notFound(decisionId);
    const at = this.standing(caller, dec);
    const window = at.router.policy.feedback.windowSeconds;
    if (Date.now() > dec.createdAt + window * 1000)
      throw new DomainError('CASCADE_CONFLICT', `decision ${dec.id} is older than its policy's feedback window`, [
        { path: 'decisionId', message: 'too late to continue' },
      ]);
    if (await this.hot.wasContinued(dec.id).catch(() => Promise.reject(unavailableRedis()))) throw continuedAlready(dec.id);
    const answeredIndex = at.router.armIndex.get(at.answered)!;
    const settle = (reason: ContinueResponse['reason']) => ({
      response: {
        decisionId: dec.id,
        policy: dec.policy,
        action: 'accept' as const,
        model: at.answered,
        answered: at.answered,
        step: at.called.length,
        propensity: 1,
        reason,
      },
    });
    if (at.called.length >= at.router.policy.cascade!.maxSteps) return settle('max-steps');
    const context = await this.context(at, dec);
    const x = context ?? new Float64Array(at.router.policy.features.dim);
    const targets = this.dearer(at, x, answeredIndex);
    if (targets.length === 0) return settle('no-dearer-model');
    const escalation = this.loadedEscalationPolicy(at.router);
    const claimed = await this.hot.claimContinuation(dec.id, window + CLAIM_MARGIN_S).catch(() => Promise.reject(unavailableRedis()));
    if (!claimed) throw continuedAlready(dec.id);
    try {
      const target = this.routing.decideOn(caller, at.router, x, targets, { learnable: context !== null });
      const next = target.response.model;
      const nextIndex = at.router.armIndex.get(next)!;
      const price = target.response.scores.find((sc) => sc.model === next)!;
      const threshold = escalationThreshold(price.quality, price.score - price.bonus, at.router.policy.objective.quality);
      const signals = answerSignals({
        prompt: req.input ?? messagesText(req.messages ?? []),
        answer: req.answer,
        logprobs: req.logprobs,
        jsonRequested: req.jsonRequested,
      }).vector;
      const phi = escalationFeatures({ answered: answeredIndex, next: nextIndex, arms: at.router.policy.arms.length, signals, context: x });
      if (phi.length !== escalation.model.d) throw notLoaded();
      const d = decideEscalationStep(escalation, phi, answeredIndex, nextIndex, threshold, this.rng);
      const cascadeFor = (arm: string, id: string): DecisionCascade =>
        arm === next
          ? {
              root: at.root,
              router: target.response.decisionId,
              called: [...at.called, next],
              escalated: true,
              escalations: [...at.escalations, { id, censored: at.routerDecision, imputed: imputedReward(d.first) }],
            }
          : { root: at.root, router: at.routerDecision, called: at.called, escalated: false, escalations: at.escalations };
      const chosen = { arm: d.escalate ? nextIndex : answeredIndex, propensity: d.propensity };
      const step = this.routing.decideOn(caller, escalation, phi, [answeredIndex, nextIndex], { cascadeFor, chosen });
      if (d.escalate) await target.record(); // before the escalation decision: its feedback joins the target's decision
      await step.record();
      const response: ContinueResponse = {
        decisionId: step.response.decisionId,
        policy: escalation.policy.name,
        action: d.escalate ? 'escalate' : 'accept',
        model: d.escalate ? next : at.answered,
        answered: at.answered,
        step: d.escalate ? at.called.length + 1 : at.called.length,
        propensity: d.propensity,
        reason: 'learned',
      };
      return d.escalate ? { response, routerDecision: target.response.decisionId } : { response };
    } catch (err) {
      await this.hot.releaseContinuation(dec.id).catch(() => undefined);
      throw err;
    }
  }

  /** This replica's copy of the router's escalation policy, in step with the router (503 until it is). */
  private loadedEscalationPolicy(router: PolicyRuntime): PolicyRuntime {
    const esc = this.cache.get(escalationPolicyName(router.policy.name));
    const inStep =
      esc !== undefined &&
      esc.policy.arms.join('\n') === router.policy.arms.join('\n') &&
      esc.model.d === escalationDim(router.policy.arms.length, router.policy.features.dim);
    if (!inStep) throw notLoaded();
    return esc;
  }

  /** The cascade so far: from a router decision (its first step) or from an escalation decision that escalated. */
  private standing(caller: Principal, dec: DecisionRecord): Standing {
    const routerName = routerPolicyName(dec.policy);
    // A decision of a policy the key may not use is unknown to it, as on the event endpoints (its policy unnamed).
    const router = mayUsePolicy(caller, routerName) ? this.cache.get(routerName) : undefined;
    if (!router) throw notFound(dec.id);
    if (!router.policy.cascade)
      throw new DomainError('CASCADE_CONFLICT', `policy ${routerName} has no cascade (set cascade on the policy)`, [
        { path: 'decisionId', message: 'its policy has no cascade' },
      ]);
    if (!router.armIndex.has(dec.arm))
      throw new DomainError('CASCADE_CONFLICT', `${dec.arm} is no longer a model of policy ${routerName}`, [
        { path: 'decisionId', message: 'its model left the policy' },
      ]);
    if (!dec.cascade) {
      if (dec.policy !== routerName || dec.mode !== 'single' || dec.fallbackFrom !== undefined)
        throw new DomainError('CASCADE_CONFLICT', `decision ${dec.id} cannot be continued (a duel or a fallback answer)`, [
          { path: 'decisionId', message: 'not a single routed decision' },
        ]);
      return { router, root: dec.id, routerDecision: dec.id, called: [dec.arm], answered: dec.arm, escalations: [], tenant: caller.owner };
    }
    const called = dec.cascade.called;
    if (!dec.cascade.escalated || dec.arm !== called[called.length - 1])
      throw new DomainError('CASCADE_CONFLICT', `decision ${dec.id} accepted its answer: there is nothing to continue`, [
        { path: 'decisionId', message: 'the cascade ended here' },
      ]);
    return {
      router,
      root: dec.cascade.root,
      routerDecision: dec.cascade.router,
      called,
      answered: dec.arm,
      escalations: dec.cascade.escalations,
      tenant: caller.owner,
    };
  }

  /** The prompt's context: the root router decision's (null when it was decided without one, or is gone). */
  private async context(at: Standing, dec: DecisionRecord): Promise<Float64Array | null> {
    const root = at.root === dec.id ? dec : (await this.lookup.find([at.root])).get(at.root);
    return root && root.x.length === at.router.policy.features.dim ? Float64Array.from(root.x) : null;
  }

  /** Callable arms (enabled, breaker not open) not called yet whose predicted cost for this prompt is above the answering model's. */
  private dearer(at: Standing, x: Float64Array, answered: number): number[] {
    const all = at.router.policy.arms.map((_, i) => i);
    const est = linearEstimates(at.router.model, x, all, false);
    const costOf = (i: number) => est[i].cost;
    const names = at.router.policy.arms.filter((m, i) => !at.called.includes(m) && costOf(i) > costOf(answered));
    return this.routing.callableArms(at.router, names, at.tenant);
  }
}

const notLoaded = () => new DomainError('UNAVAILABLE', 'the escalation policy is not loaded on this replica yet; retry shortly', [], 1);
const continuedAlready = (id: string) =>
  new DomainError('CASCADE_CONFLICT', `decision ${id} was continued already`, [{ path: 'decisionId', message: 'already continued' }]);
const notFound = (id: string) => new DomainError('DECISION_NOT_FOUND', `decision ${id} not found`, [{ path: 'decisionId', message: 'unknown decision' }]);
const unavailableRedis = () => new DomainError('UNAVAILABLE', 'cannot record a cascade step right now; retry later', [], 5);
