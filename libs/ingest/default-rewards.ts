import { defaultRewardEventId, type FeedbackJob, type Policy } from '@app/contracts';
import { type DecisionsRepository, type PoliciesRepository } from '@app/persistence';

/** At most this many rounds of shares a sweep (each round only for the policies that filled their share). */
const MAX_ROUNDS = 4;

/**
 * Finds decisions whose feedback window has closed without any feedback, for policies with a `defaultReward`,
 * and returns the feedback events to apply: the default reward, received at the window's end (so not late).
 * The event id is derived from the decision, so sweeping twice, or from two workers, applies it once.
 *
 * A sweep takes at most `limit` decisions, shared fairly: each policy first gets an equal share (not the first
 * in name order all it has), and what the others leave goes, in further rounds, to those that had more. So one
 * tenant's backlog (a flood of routes on its own policy) cannot hold back another policy's default rewards.
 */
export class DefaultRewardSweeper {
  constructor(
    private readonly policies: PoliciesRepository,
    private readonly decisions: DecisionsRepository,
  ) {}

  async due(now = Date.now(), limit = 5000): Promise<FeedbackJob[]> {
    const taken = new Map<string, FeedbackJob>();
    const asked = new Map<string, number>();
    let open = (await this.policies.list()).filter((p) => p.feedback.defaultReward !== null);
    for (let round = 0; round < MAX_ROUNDS && open.length > 0 && taken.size < limit; round++) {
      const share = Math.ceil((limit - taken.size) / open.length);
      const more: Policy[] = [];
      for (const p of open) {
        const room = limit - taken.size;
        if (room <= 0) break;
        // The oldest due rows again, further: those taken in an earlier round come first and are skipped.
        const ask = (asked.get(p.name) ?? 0) + Math.min(share, room);
        asked.set(p.name, ask);
        const windowMs = p.feedback.windowSeconds * 1000;
        const rows = await this.decisions.unansweredClosed(p.name, p.epoch, new Date(now - windowMs), ask);
        for (const r of rows) {
          if (taken.size >= limit) break;
          if (!taken.has(r.id))
            taken.set(r.id, {
              eventId: defaultRewardEventId(r.id),
              decisionId: r.id,
              reward: p.feedback.defaultReward!,
              receivedAt: r.createdAt.getTime() + windowMs,
            });
        }
        if (rows.length === ask) more.push(p);
      }
      open = more;
    }
    return [...taken.values()];
  }
}
