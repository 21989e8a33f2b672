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

  it('waits up to maxWaitMs for more items, and closes a full group at once', async () => {
    const { groups, commit } = recorder();
    // A window of 60 ms is worth waiting for even at one item per RATE_WINDOW_MS.
    const g = new GroupCommit(commit, 60, 3);
    const first = g.submit(1);
    await new Promise((r) => setTimeout(r, 5));
    const rest = [2, 3, 4, 5].map((n) => g.submit(n));
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40, 50]);
    expect(groups).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('waits only when the recent arrival rate says the window will gather something', async () => {
    const { groups, commit } = recorder();
    // A 10 ms window waits once about 5 items came in the last RATE_WINDOW_MS (100 ms).
    const g = new GroupCommit(commit, 10, 100);
    await g.submit(1); // quiet: closes at the end of the turn
    await Promise.all([2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => g.submit(n))); // same turn: one group, at once
    // Now busy: 11's group waits its 10 ms and gathers 12, sent 1 ms later (timers fire in order of expiry).
    await Promise.all([g.submit(11), new Promise((r) => setTimeout(r, 1)).then(() => g.submit(12))]);
    await new Promise((r) => setTimeout(r, 500)); // the rate decays
    await g.submit(13);
    expect(groups).toEqual([[1], [2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12], [13]]);
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
