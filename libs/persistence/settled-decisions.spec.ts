import { SettledDecisions } from './settled-decisions.js';

describe('SettledDecisions', () => {
  it('remembers ids up to its capacity, forgetting the oldest first', () => {
    const s = new SettledDecisions(3);
    for (const id of ['a', 'b', 'c', 'a', 'd']) s.add(id);
    expect(['a', 'b', 'c', 'd'].map((id) => s.has(id))).toEqual([false, true, true, true]);
    s.add('e');
    expect(['b', 'c', 'd', 'e'].map((id) => s.has(id))).toEqual([false, true, true, true]);
  });
});
