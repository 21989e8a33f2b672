import { jest } from '@jest/globals';
import { Logger } from '@app/infra';
import { type PolicyRuntime } from '@app/learning';
import { type LearnedEventRef, type LearnedEventRow, type LearnedEventsRepository } from '@app/persistence';
import { type ApiEnv } from '../config.js';
import { type PolicyCache } from './policy-cache.service.js';
import { CATCH_UP_MS, SequentialStateService } from './sequential-state.service.js';

/**
 * The replica's reader of a TI-UCB policy's learned events, on a stand-in for our own repository that holds
 * "visible" rows with ISO timestamps (lexical order = time order): each poll reads only rows after its cursor; a
 * row that commits behind the cursor is found by the look back (ids only, then that row by id) within CATCH_UP_MS;
 * rows are learnt once.
 */
function stubLearned() {
  const visible: LearnedEventRow[] = [];
  const calls = { since: 0, sinceRows: 0, refs: 0, byIds: [] as string[][] };
  const hidden = new Set<string>(); // rows whose full read finds nothing yet
  const key = (r: { persistedAt: string; id: string }) => `${r.persistedAt}|${r.id}`;
  const sorted = () => [...visible].sort((a, b) => (key(a) < key(b) ? -1 : 1));
  const repo = {
    since: async (_p: string, _e: number, after: string, afterId: string, overlapMs: number, limit = 5000) => {
      expect(overlapMs).toBe(0);
      calls.since++;
      const rows = sorted()
        .filter((r) => key(r) > `${after}|${afterId}`)
        .slice(0, limit);
      calls.sinceRows += rows.length;
      return rows;
    },
    refsBetween: async (
      _p: string,
      _e: number,
      after: string,
      afterId: string,
      overlapMs: number,
      until: string,
      untilId: string,
    ): Promise<LearnedEventRef[]> => {
      calls.refs++;
      const from = new Date(Date.parse(after) - overlapMs).toISOString();
      return sorted()
        .filter((r) => key(r) > `${from}|${afterId}` && key(r) <= `${until}|${untilId}`)
        .map((r) => ({ id: r.id, persistedAt: r.persistedAt }));
    },
    byIds: async (_p: string, _e: number, ids: readonly string[]) => {
      calls.byIds.push([...ids]);
      return sorted().filter((r) => ids.includes(r.id) && !hidden.has(r.id));
    },
  } as unknown as LearnedEventsRepository;
  const row = (id: string, at: string, arm = 0): LearnedEventRow => ({
    id,
    kind: 'feedback',
    reward: 1,
    context: [1, 0],
    armIndex: arm,
    arms: null,
    createdAt: new Date(at),
    persistedAt: at,
  });
  return { repo, calls, hidden, show: (id: string, at: string, arm = 0) => visible.push(row(id, at, arm)) };
}

describe('SequentialStateService reading learned events', () => {
  const rt = {
    algorithm: 'ti-ucb',
    policy: { name: 't', epoch: 1, version: 1, features: { source: 'builtin', dim: 2 }, arms: ['a', 'b'] },
    armIndex: new Map([
      ['a', 0],
      ['b', 1],
    ]),
  } as unknown as PolicyRuntime;
  const cache = { policyNames: () => ['t'], get: () => rt } as unknown as PolicyCache;
  let now = 1_000_000;
  beforeEach(() => jest.spyOn(Date, 'now').mockImplementation(() => now));
  /** The service on `repo`, and how many observations its TI-UCB state holds. */
  const reader = (repo: LearnedEventsRepository) => {
    const svc = new SequentialStateService(cache, repo, { SEQUENTIAL_REFRESH_MS: 250 } as ApiEnv, new Logger('test', 'error'));
    return {
      svc,
      learnt: () =>
        svc
          .trend(rt)
          .pulls()
          .reduce((s, n) => s + n, 0),
    };
  };
  afterEach(() => jest.restoreAllMocks());

  it('reads only new rows each poll, and finds a row committed behind the cursor on the next look back, once', async () => {
    const { repo, calls, show } = stubLearned();
    const { svc, learnt } = reader(repo);
    show('r1', '2024-05-01T12:00:10.000Z');
    show('r3', '2024-05-01T12:00:10.030Z', 1);
    await svc.refresh();
    expect(learnt()).toBe(2);
    show('r2', '2024-05-01T12:00:10.010Z'); // its pass closed after r3's
    for (let i = 0; i < 7; i++) {
      now += 250;
      await svc.refresh();
    }
    expect(learnt()).toBe(2); // not looked back yet
    expect(calls.refs).toBe(0);
    now += CATCH_UP_MS - 7 * 250;
    await svc.refresh();
    expect(learnt()).toBe(3);
    expect(calls.refs).toBe(1);
    expect(calls.byIds).toEqual([['r2']]); // only the missing row is read whole
    // every row was read whole once: polls only read past the cursor
    expect(calls.sinceRows).toBe(2);
    for (let i = 0; i < 20; i++) {
      now += 250;
      await svc.refresh();
    }
    expect(learnt()).toBe(3);
    expect(calls.refs).toBe(3);
    expect(calls.byIds).toEqual([['r2']]);
  });

  it('finds a row committed up to 30 s behind the cursor, and tries again a row its full read did not find', async () => {
    const { repo, calls, hidden, show } = stubLearned();
    const { svc, learnt } = reader(repo);
    show('r1', '2024-05-01T12:00:40.000Z');
    await svc.refresh();
    show('late', '2024-05-01T12:00:10.500Z'); // 29.5 s behind the cursor
    show('odd', '2024-05-01T12:00:20.000Z');
    hidden.add('odd');
    now += CATCH_UP_MS;
    await svc.refresh();
    expect(learnt()).toBe(2);
    hidden.delete('odd');
    now += CATCH_UP_MS;
    await svc.refresh();
    expect(learnt()).toBe(3);
    expect(calls.byIds).toEqual([['late', 'odd'], ['odd']]);
  });

  it('keeps only the look-back window in its memory of rows seen', async () => {
    const { repo, show } = stubLearned();
    const { svc, learnt } = reader(repo);
    for (let i = 0; i < 50; i++) show(`old${i}`, `2024-05-01T12:00:${String(i).padStart(2, '0')}.000Z`);
    await svc.refresh();
    show('new', '2024-05-01T12:01:40.000Z');
    now += CATCH_UP_MS;
    await svc.refresh();
    const seen = (svc as unknown as { entries: Map<string, { seen: Set<string> }> }).entries.get('t')!.seen;
    expect([...seen]).toEqual(['new']); // the 32 s before 12:01:40 hold none of the old rows
    expect(learnt()).toBe(51);
  });
});
