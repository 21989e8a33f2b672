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
        entry.data.map((d) => ({
          key: `decision:${d.id}`,
          kind: 'decisions',
          eventId: null,
          decisionId: d.id,
          policy: d.policy,
          error: error.message,
          payload: d,
        })),
      );
    } else {
      const decisionId = entry.data.decisionId ?? null;
      const policy = decisionId === null ? null : ((await this.policiesOf([decisionId])).get(decisionId) ?? null);
      const key = `event:${entry.kind}:${entry.data.eventId}`;
      await this.letters.add([{ key, kind: entry.kind, eventId: entry.data.eventId, decisionId, policy, error: error.message, payload: entry.data }]);
    }
    this.log.warn('learning item refused by Postgres; set aside', { kind: entry.kind, error: error.message.slice(0, 200) });
  }

  /**
   * The items of job `jobId` that do not parse (RefusedItem), set aside once each however often the job runs: keyed
   * by their place in the job, since their ids cannot be trusted. An event's policy is looked up by its decision.
   */
  async setAsideRefused(jobId: string, items: readonly RefusedItem[]): Promise<void> {
    if (items.length === 0) return;
    const text = (v: unknown) => (typeof v === 'string' ? v : null);
    const fields = items.map(({ payload }) => (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>);
    const events = fields.flatMap((f, i) => (items[i].kind === 'decisions' ? [] : (text(f.decisionId) ?? [])));
    const policies = await this.policiesOf(events);
    await this.letters.add(
      items.map(({ kind, index, payload, error }, i) => {
        const f = fields[i];
        const key = `job:${jobId}:${kind}:${index}`;
        const base = { key, kind, error: `invalid item: ${error}`, payload };
        if (kind === 'decisions') return { ...base, eventId: null, decisionId: text(f.id), policy: text(f.policy) };
        const decisionId = text(f.decisionId);
        return { ...base, eventId: text(f.eventId), decisionId, policy: decisionId === null ? null : (policies.get(decisionId) ?? null) };
      }),
    );
    this.log.warn('queued items that do not parse were set aside', { jobId, items: items.length, kinds: [...new Set(items.map((i) => i.kind))].join(',') });
  }

  /** The decisions' policies, for the per-policy count (hot copies first, then the log); unknown ones are left out. */
  private async policiesOf(decisionIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const ids = [...new Set(decisionIds)];
    if (ids.length === 0) return out;
    const hot = await this.hot.getMany(ids).catch(() => ids.map(() => null));
    ids.forEach((id, i) => hot[i] && out.set(id, hot[i].policy));
    const missing = ids.filter((id) => !out.has(id));
    if (missing.length === 0) return out;
    const cold = await this.decisions.getMany(missing).catch(() => new Map<string, { policy: string }>());
    for (const [id, d] of cold) out.set(id, d.policy);
    return out;
  }
}
