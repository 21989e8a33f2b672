import { Injectable } from '@nestjs/common';
import { isPermanentDataError, Logger } from '@app/infra';
import { DeadLettersRepository, DecisionsRepository } from '@app/persistence';
import { DecisionHotStore } from '@app/store';
import { type RefusedItem } from '@app/contracts';
import { type Entry, type PoisonHandling } from './micro-batcher.js';

/**
 * Sets aside, in Postgres, the one entry of a micro-batch whose data Postgres refuses (see MicroBatcher), and the
 * items of a batch job that do not parse (so that the items queued beside them are learnt).
 */
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

  async setAsideRefused(items: readonly RefusedItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.letters.add(
      items.map(({ kind, payload, error }) => {
        const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
        const text = (v: unknown) => (typeof v === 'string' ? v : null);
        return kind === 'decisions'
          ? { kind, eventId: null, decisionId: text(p.id), policy: text(p.policy), error: `invalid item: ${error}`, payload }
          : { kind, eventId: text(p.eventId), decisionId: text(p.decisionId), policy: null, error: `invalid item: ${error}`, payload };
      }),
    );
    this.log.warn('queued items that do not parse were set aside', { items: items.length, kinds: [...new Set(items.map((i) => i.kind))].join(',') });
  }

  /** The decision's policy, for the per-policy count; unknown when the decision cannot be found. */
  private async policyOf(decisionId: string): Promise<string | null> {
    const [hot] = await this.hot.getMany([decisionId]).catch(() => [null]);
    if (hot) return hot.policy;
    const cold = await this.decisions.getMany([decisionId]).catch(() => new Map<string, { policy: string }>());
    return cold.get(decisionId)?.policy ?? null;
  }
}
