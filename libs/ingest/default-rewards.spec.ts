import { type Policy } from '@app/contracts';
import { type DecisionsRepository, type PoliciesRepository } from '@app/persistence';
import { DefaultRewardSweeper } from './default-rewards.js';

/** Policies with a default reward and a backlog of closed, unanswered decisions each (the repository boundary). */
function sweeper(backlogs: Record<string, number>, defaultReward: number | null = 0) {
  const policies = Object.keys(backlogs).map((name) => ({ name, epoch: 1, feedback: { windowSeconds: 1, defaultReward } }) as unknown as Policy);
  const rows = (name: string, limit: number) =>
    Array.from({ length: Math.min(limit, backlogs[name]) }, (_, i) => ({ id: `${name}-${i}`, createdAt: new Date(1000 + i) }));
  const repo = {
    unansweredClosed: (name: string, _epoch: number, _before: Date, limit: number) => Promise.resolve(rows(name, limit)),
  } as unknown as DecisionsRepository;
  return new DefaultRewardSweeper({ list: () => Promise.resolve(policies) } as unknown as PoliciesRepository, repo);
}
const perPolicy = (jobs: { decisionId: string }[]) =>
  jobs.reduce<Record<string, number>>((n, j) => ({ ...n, [j.decisionId.split('-')[0]]: (n[j.decisionId.split('-')[0]] ?? 0) + 1 }), {});

describe('DefaultRewardSweeper: a sweep shared fairly among policies', () => {
  it('gives a small policy after a flooded one in name order all it has due (the flood does not take the sweep)', async () => {
    const jobs = await sweeper({ aaa: 1_000_000, zzz: 20 }).due(10_000, 5000);
    expect(perPolicy(jobs)).toEqual({ aaa: 4980, zzz: 20 });
    expect(new Set(jobs.map((j) => j.decisionId)).size).toBe(5000);
  });

  it('splits the sweep evenly among policies that all have more than their share', async () => {
    expect(perPolicy(await sweeper({ a: 10_000, b: 10_000, c: 10_000, d: 10 }).due(10_000, 3000))).toEqual({ a: 997, b: 997, c: 996, d: 10 });
  });

  it('takes everything when all fits, each once, and nothing for policies without a default reward', async () => {
    const jobs = await sweeper({ a: 3, b: 2 }).due(10_000, 5000);
    expect(jobs.map((j) => j.decisionId).sort()).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1']);
    expect(jobs[0]).toMatchObject({ eventId: expect.stringContaining('a-0'), reward: 0, receivedAt: 1000 + 1000 });
    expect(await sweeper({ a: 3 }, null).due(10_000, 5000)).toEqual([]);
  });
});
