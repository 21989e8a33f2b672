import { GroupCommit } from './group-commit.js';

describe('group commit', () => {
  const recorder = () => {
    const groups: number[][] = [];
    const commit = async (entries: number[]) => {
      groups.push([...entries]);
      await new Promise((r) => setTimeout(r, 1));
      return entries.map((e) => e * 10);
    };
    return { groups, commit };
  };

  it('gathers items submitted in the same turn into one group and answers each with its own result', async () => {
    const { groups, commit } = recorder();
    const g = new GroupCommit(commit, 0, 100);
    const answers = await Promise.all([1, 2, 3].map((n) => g.submit(n)));
    expect(answers).toEqual([10, 20, 30]);
    expect(groups).toEqual([[1, 2, 3]]);
    // A later submission opens a new group.
    expect(await g.submit(4)).toBe(40);
    expect(groups).toEqual([[1, 2, 3], [4]]);
  });

  it('waits up to maxWaitMs for more items while traffic is steady, and closes a full group at once', async () => {
    const { groups, commit } = recorder();
    const g = new GroupCommit(commit, 20, 3);
    await g.submit(0); // the first group after a quiet spell closes at once
    const first = g.submit(1);
    await new Promise((r) => setTimeout(r, 5));
    const rest = [2, 3, 4, 5].map((n) => g.submit(n));
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40, 50]);
    expect(groups).toEqual([[0], [1, 2, 3], [4, 5]]);
  });

  it('does not hold an item when the group before closed longer than maxWaitMs ago', async () => {
    const { groups, commit } = recorder();
    const g = new GroupCommit(commit, 50, 100);
    const later = (n: number, ms: number) => new Promise((r) => setTimeout(r, ms)).then(() => g.submit(n));
    // 1 comes after a quiet spell: its group closes at the end of the turn, so 2 (10 ms later) opens another,
    // which waits (the last close was recent) and gathers 3.
    await Promise.all([g.submit(1), later(2, 10), later(3, 20)]);
    await new Promise((r) => setTimeout(r, 120));
    await Promise.all([g.submit(4), later(5, 10)]);
    expect(groups).toEqual([[1], [2, 3], [4], [5]]);
  });

  it('fails every submitter of a failed group, and the next group starts afresh', async () => {
    let fail = true;
    const g = new GroupCommit<number, number>(
      async (entries) => {
        if (fail) throw new Error('queue away');
        return entries;
      },
      0,
      10,
    );
    const settled = await Promise.allSettled([g.submit(1), g.submit(2)]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await g.submit(3)).toBe(3);
  });
});
