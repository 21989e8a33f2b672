import { DomainError } from '@app/errors';
import { type Principal, type RouteResponse, usageEventId } from '@app/contracts';
import { type Logger } from '@app/infra';
import { type ContinueService } from '../routing/continue.service.js';
import { type CallPlan, type HeldAnswer, JSON_CONTENT_TYPE, type UpstreamCall } from './call-plan.js';
import { asksForJsonFormat } from './completion-answer.js';
import { type UsageOwner } from './usage-job.js';

/** What the cascade needs of the proxy: its attempt loop and its usage recording. */
export interface CascadeCalls {
  callInOrder(plan: CallPlan, call: UpstreamCall): Promise<void>;
  recordUsage(caller: Principal, owner: UsageOwner, model: string, ...rest: Parameters<CallPlan['record']>): void;
}

type Held = HeldAnswer & { model: string };

/**
 * `router/<policy>` through a policy's cascade (non-streaming requests; streaming ones skip it): the routed model
 * answers (with the decision's fallbacks), the answer is held back and examined by the escalation policy
 * (ContinueService.step); on escalate the chosen dearer model is called and its answer examined in turn, up to
 * `maxSteps` calls. The last answer goes out with `x-router-models` (every model called, in order) and
 * `x-router-decision-id` naming the decision the final answer's feedback goes to. Each call's usage is the usage
 * of its own router decision. The request never fails for the cascade's sake: when a step cannot be decided or the
 * escalation target fails, the answer in hand goes out.
 */
export class ProxyCascade {
  constructor(
    private readonly steps: ContinueService,
    private readonly calls: CascadeCalls,
    private readonly log: Logger,
  ) {}

  async serve(caller: Principal, dec: RouteResponse, first: CallPlan, call: UpstreamCall): Promise<void> {
    let held: Held | null = null;
    await this.calls.callInOrder({ ...first, hold: (model, answer) => (held = { model, ...answer }) }, call);
    if (!held) return; // the upstream's own 4xx was relayed
    let answer: Held = held;
    let feedbackTo = dec.decisionId;
    const models = [answer.model];
    for (;;) {
      const { text, logprobs } = answer.examined;
      const request = { answer: text, messages: call.messages as never, ...(logprobs ? { logprobs } : {}), jsonRequested: asksForJsonFormat(call.params) };
      const step = await this.steps.step(caller, feedbackTo, request).catch((err: Error) => {
        this.log.warn('cascade step not decided; the answer in hand goes out', { decisionId: feedbackTo, error: err.message });
        return null;
      });
      if (!step) break;
      if (step.response.action !== 'escalate' || !step.routerDecision) {
        feedbackTo = step.response.decisionId;
        break;
      }
      const next = await this.escalate(caller, step.response.model, step.routerDecision, call);
      // The target failed: the answer in hand goes out, and its feedback still goes where it did (its own model's).
      if (!next) break;
      feedbackTo = step.response.decisionId;
      answer = next;
      models.push(next.model);
    }
    const headers = { 'x-router-decision-id': feedbackTo, 'x-router-model': answer.model, 'x-router-models': models.join(',') };
    void call.reply.status(200).headers(headers).type(JSON_CONTENT_TYPE).send(answer.bytes);
  }

  /** Calls the escalation target (its retries, no fallback, no relayed 4xx); null when it failed. */
  private async escalate(caller: Principal, model: string, routerDecision: string, call: UpstreamCall): Promise<Held | null> {
    let held: Held | null = null;
    const owner: UsageOwner = { eventId: usageEventId(routerDecision), decisionId: routerDecision, keyId: caller.keyId };
    const plan: CallPlan = {
      order: [model],
      beforeAnswer: () => Promise.resolve(),
      hold: (m, answer) => (held = { model: m, ...answer }),
      relay: false,
      headers: (m) => ({ 'x-router-model': m }),
      record: (m, a, attempts, wasted) => this.calls.recordUsage(caller, owner, model, m, a, attempts, wasted),
      answered: () => undefined,
      allFailed: () => new DomainError('UPSTREAM_FAILED', `escalation to ${model} failed`),
    };
    try {
      await this.calls.callInOrder(plan, call);
    } catch (err) {
      this.log.warn('escalation target failed; the earlier answer goes out', { model, error: (err as Error).message });
      return null;
    }
    return held;
  }
}
