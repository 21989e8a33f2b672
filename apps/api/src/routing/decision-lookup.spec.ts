import { type DecisionRecord } from '@app/contracts';
import { type DecisionsRepository } from '@app/persistence';
import { type DecisionHotStore } from '@app/store';
import { type ApiEnv } from '../config.js';
import { DecisionLookup } from './decision-lookup.service.js';
import { OwedHotCopies } from './owed-hot-copies.service.js';

const rec = (id: string) => ({ id, policy: 'p', arm: 'a' }) as unknown as DecisionRecord;

/**
 * Hot copies in a Map (our store's boundary): a GET answers what was there when it was sent, and the answer is
 * delivered only when the test releases it, so a write can land in between, as on a real connection.
 */
class FakeHot {
  readonly copies = new Map<string, DecisionRecord>();
  private release: (() => void) | null = null;
  holdGets = false;

  async put(r: DecisionRecord): Promise<void> {
    this.copies.set(r.id, r);
  }

  async getMany(ids: readonly string[]): Promise<(DecisionRecord | null)[]> {
    const answer = ids.map((id) => this.copies.get(id) ?? null);
    if (this.holdGets) await new Promise<void>((r) => (this.release = r));
    return answer;
  }

  deliver(): void {
    this.release?.();
  }
}

describe('DecisionLookup: a decision routed while Redis was away', () => {
  const env = { DECISION_FLUSH_MS: 1_000_000 } as ApiEnv;
  const noDurable = { getMany: async () => new Map() } as unknown as DecisionsRepository;

  it('is found while its hot copy is owed, and once written', async () => {
    const hot = new FakeHot();
    const owed = new OwedHotCopies(hot as unknown as DecisionHotStore, env);
    const lookup = new DecisionLookup(hot as unknown as DecisionHotStore, noDurable, owed);
    owed.add(rec('dec_1'), 60);
    expect((await lookup.find(['dec_1'])).get('dec_1')?.id).toBe('dec_1');
    expect([hot.copies.has('dec_1'), owed.size]).toEqual([true, 0]); // settled by the lookup
    expect((await lookup.find(['dec_1', 'dec_unknown'])).size).toBe(1);
  });

  it('is found when its owed copy is written between the GET and its answer (found in neither otherwise)', async () => {
    const hot = new FakeHot();
    const owed = new OwedHotCopies(hot as unknown as DecisionHotStore, env);
    const lookup = new DecisionLookup(hot as unknown as DecisionHotStore, noDurable, owed);
    owed.add(rec('dec_2'), 60);
    hot.holdGets = true;
    const found = lookup.find(['dec_2']); // the GET goes out: no copy yet
    await owed.settle('dec_2'); // the replica's background writer: the copy lands, the debt is gone
    expect([hot.copies.has('dec_2'), owed.size]).toEqual([true, 0]);
    hot.deliver(); // ... then the GET's answer (null) arrives
    expect((await found).get('dec_2')?.id).toBe('dec_2');
  });

  it("prefers its owed copy to Redis's, and writes it over that one before answering", async () => {
    // A proxied call's pick was written early; the fallback that answered could not be written, so it is owed.
    const hot = new FakeHot();
    const owed = new OwedHotCopies(hot as unknown as DecisionHotStore, env);
    const lookup = new DecisionLookup(hot as unknown as DecisionHotStore, noDurable, owed);
    await hot.put(rec('dec_3'));
    owed.add({ ...rec('dec_3'), arm: 'b', fallbackFrom: 'a' }, 60);
    expect((await lookup.find(['dec_3'])).get('dec_3')?.arm).toBe('b');
    expect([hot.copies.get('dec_3')?.arm, owed.size]).toEqual(['b', 0]);
  });
});
