import { Injectable } from '@nestjs/common';
import { type DecisionHead, type DecisionRecord } from '@app/contracts';
import { DomainError } from '@app/errors';
import { DecisionsRepository } from '@app/persistence';
import { DecisionHotStore } from '@app/store';
import { OwedHotCopies } from './owed-hot-copies.service.js';

const RETRY_AFTER_S = 5;

/**
 * Finds decisions by id for what joins them (feedback, readings, cascade steps): the Redis hot copy, else a copy
 * this replica still owes Redis (routed while Redis was away: written now, before anything joins it), else the
 * durable log. Unknown ids are absent from the answer; 503 + Retry-After when neither store can answer.
 */
@Injectable()
export class DecisionLookup {
  constructor(
    private readonly hot: DecisionHotStore,
    private readonly decisions: DecisionsRepository,
    private readonly owed: OwedHotCopies,
  ) {}

  find(ids: string[]): Promise<Map<string, DecisionRecord>> {
    return this.findWith(ids, (some) => this.hot.getMany(some));
  }

  /** The same without contexts (what checks an event against its decision needs; hot copies are read faster). */
  findHeads(ids: string[]): Promise<Map<string, DecisionHead>> {
    return this.findWith(ids, (some) => this.hot.getHeads(some));
  }

  /** Found in Redis as `readHot` reads it; an owed or durable copy is whole (a DecisionRecord is a DecisionHead). */
  private async findWith<T extends DecisionHead>(ids: string[], readHot: (ids: string[]) => Promise<(T | null)[]>): Promise<Map<string, T | DecisionRecord>> {
    const out = new Map<string, T | DecisionRecord>();
    if (ids.length === 0) return out;
    // What this replica owes is read before Redis is: a copy written while the GET is on its way leaves the owed
    // set before the GET's answer (null) is read, and would otherwise be found in neither.
    const owedBefore = ids.map((id) => this.owed.get(id));
    let hot: (T | null)[];
    try {
      hot = await readHot(ids);
    } catch {
      throw unavailable('the event queue is unavailable; retry later');
    }
    const missing: string[] = [];
    for (const [i, id] of ids.entries()) {
      // An owed copy is newer than Redis's (a proxied call's pick written early, then its fallback's record not).
      const owed = owedBefore[i] ?? (hot[i] ? undefined : this.owed.get(id));
      if (owed) await this.owed.settle(id).catch(() => Promise.reject(unavailable('the event queue is unavailable; retry later')));
      const rec = owed ?? hot[i];
      if (rec) out.set(id, rec);
      else missing.push(id);
    }
    if (missing.length > 0) {
      try {
        for (const [id, rec] of await this.decisions.getMany(missing)) out.set(id, rec);
      } catch {
        throw unavailable('cannot look decisions up right now; retry later');
      }
    }
    return out;
  }
}

const unavailable = (what: string) => new DomainError('UNAVAILABLE', what, [], RETRY_AFTER_S);
