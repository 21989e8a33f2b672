import { decisionRecord } from '../../test/support/rows.js';
import { RecentDecisions } from './recent-decisions.js';

const rec = (id: string, d = 2) =>
  decisionRecord(
    id,
    Array.from({ length: d }, (_, i) => i),
  );

describe('RecentDecisions', () => {
  it('keeps the last decisions seen up to a number of context values, forgetting the oldest first', () => {
    const recent = new RecentDecisions(9); // three decisions of d = 2 (each counts d + 1)
    for (const id of ['a', 'b', 'c']) recent.add(rec(id));
    recent.add(rec('a')); // seen again: keeps its place (and its first copy)
    recent.add(rec('d'));
    expect(['a', 'b', 'c', 'd'].map((id) => recent.get(id)?.id)).toEqual([undefined, 'b', 'c', 'd']);
    // A larger context makes room by forgetting as many of the oldest as it takes.
    recent.add(rec('e', 4));
    expect(['b', 'c', 'd', 'e'].map((id) => recent.get(id)?.id)).toEqual([undefined, undefined, 'd', 'e']);
  });

  it('keeps nothing with no room, no context larger than its room, and bounds decisions without context too', () => {
    const none = new RecentDecisions(0);
    none.add(rec('a'));
    expect(none.get('a')).toBeUndefined();
    const small = new RecentDecisions(4);
    small.add(rec('b', 4));
    expect(small.get('b')).toBeUndefined();
    const empty = new RecentDecisions(3);
    for (const id of ['c', 'd', 'e', 'f']) empty.add(rec(id, 0));
    expect(['c', 'd', 'e', 'f'].map((id) => empty.get(id)?.id)).toEqual([undefined, 'd', 'e', 'f']);
  });

  it('stays exact over many evictions (the order of ids is compacted as it goes)', () => {
    const recent = new RecentDecisions(3 * 100); // 100 decisions of d = 2
    for (let i = 0; i < 5000; i++) recent.add(rec(`d${i}`));
    expect(recent.size).toBe(100);
    expect(recent.get('d4899')).toBeUndefined();
    expect(recent.get('d4900')?.id).toBe('d4900');
    expect(recent.get('d4999')?.id).toBe('d4999');
  });
});
