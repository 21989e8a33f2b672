import { Injectable } from '@nestjs/common';
import { isPermanentDataError, Logger } from '@app/infra';
import { DeadLettersRepository, DecisionsRepository } from '@app/persistence';
import { DecisionHotStore } from '@app/store';
import { type Entry, type PoisonHandling } from './micro-batcher.js';

/** Sets aside, in Postgres, the one entry of a micro-batch whose data Postgres refuses (see MicroBatcher). */
@Injectable()
export class DeadLetterer implements PoisonHandling {
  private readonly log: Logger;

  constructor(
    private readonly letters: DeadLettersRepository,
    private readonly hot: DecisionHotStore,
    private readonly decisions: DecisionsRepository,
    logger: Logger,
  ) {
    this.log = logger.child('dead-letters');
  }

  isPermanent(e: unknown): boolean {
    return isPermanentDataError(e);
  }

  async deadLetter(entry: Entry, error: Error): Promise<void> {
    if (entry.kind === 'decisions') {
      await this.letters.add(
        entry.data.map((d) => ({ kind: 'decisions', eventId: null, decisionId: d.id, policy: d.policy, error: error.message, payload: d })),
      );
    } else {
      const decisionId = entry.data.decisionId ?? null;
      const policy = decisionId === null ? null : await this.policyOf(decisionId);
      await this.letters.add([{ kind: entry.kind, eventId: entry.data.eventId, decisionId, policy, error: error.message, payload: entry.data }]);
    }
    this.log.warn('learning item refused by Postgres; set aside', { kind: entry.kind, error: error.message.slice(0, 200) });
  }

  /** The decision's policy, for the per-policy count; unknown when the decision cannot be found. */
  private async policyOf(decisionId: string): Promise<string | null> {
    const [hot] = await this.hot.getMany([decisionId]).catch(() => [null]);
    if (hot) return hot.policy;
    const cold = await this.decisions.getMany([decisionId]).catch(() => new Map<string, { policy: string }>());
    return cold.get(decisionId)?.policy ?? null;
  }
}
