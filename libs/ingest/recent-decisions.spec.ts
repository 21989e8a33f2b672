import { decisionRecord } from '../../test/support/rows.js';
import { RecentDecisions } from './recent-decisions.js';

const rec = (id: string) => decisionRecord(id, [1, 2]);

describe('RecentDecisions', () => {
  it('keeps the last `capacity` decisions seen, forgetting the oldest first', () => {
    const recent = new RecentDecisions(3);
    for (const id of ['a', 'b', 'c']) recent.add(rec(id));
    recent.add(rec('a')); // seen again: keeps its place (and its first copy)
    recent.add(rec('d'));
    expect(['a', 'b', 'c', 'd'].map((id) => recent.get(id)?.id)).toEqual([undefined, 'b', 'c', 'd']);
  });

  it('keeps nothing with no capacity', () => {
    const recent = new RecentDecisions(0);
    recent.add(rec('a'));
    expect(recent.get('a')).toBeUndefined();
  });
});
