import { defaultRewardEventId, type FeedbackJob } from '@app/contracts';
import { type DecisionsRepository, type PoliciesRepository } from '@app/persistence';

/**
 * Finds decisions whose feedback window has closed without any feedback, for policies with a `defaultReward`,
 * and returns the feedback events to apply: the default reward, received at the window's end (so not late).
 * The event id is derived from the decision, so sweeping twice, or from two workers, applies it once.
 */
export class DefaultRewardSweeper {
  constructor(
    private readonly policies: PoliciesRepository,
    private readonly decisions: DecisionsRepository,
  ) {}

  async due(now = Date.now(), limit = 5000): Promise<FeedbackJob[]> {
    const out: FeedbackJob[] = [];
    for (const p of await this.policies.list()) {
      const reward = p.feedback.defaultReward;
      if (reward === null || out.length >= limit) continue;
      const windowMs = p.feedback.windowSeconds * 1000;
      const rows = await this.decisions.unansweredClosed(p.name, p.epoch, new Date(now - windowMs), limit - out.length);
      for (const r of rows) out.push({ eventId: defaultRewardEventId(r.id), decisionId: r.id, reward, receivedAt: r.createdAt.getTime() + windowMs });
    }
    return out;
  }
}
