import { type DecisionRecord, type Policy, type Principal } from '@app/contracts';
import { Logger } from '@app/infra';
import { armPriors, buildRuntime, type PolicyRuntime } from '@app/learning';
import { replayPolicy } from '@app/replay';
import { type DecisionHotStore } from '@app/store';
import { type BreakerService } from '../breakers/breakers.service.js';
import { type ApiEnv } from '../config.js';
import { type MetricsService } from '../observability/metrics.service.js';
import { type DecisionFlusher } from './decision-flusher.service.js';
import { type EmbeddingFeatures } from './embedding-features.service.js';
import { OwedHotCopies } from './owed-hot-copies.service.js';
import { type PolicyCache } from './policy-cache.service.js';
import { RoutingService } from './routing.service.js';
import { type SequentialStateService } from './sequential-state.service.js';

const D = 4;
const POLICY: Policy = replayPolicy({
  algorithm: 'linucb',
  arms: ['pick', 'fallback'],
  dim: D,
  objective: { quality: 1, energy: 0, cost: 0, latency: 0 },
  params: {},
});
const CALLER = { owner: 'o', scope: 'route', policies: null } as unknown as Principal;

/**
 * Hot copies in a Map (our store's boundary). `refuse` writes are refused (as Redis away would), each refusal
 * counted; every write is logged with the arm it carried.
 */
class FakeHot {
  readonly copies = new Map<string, DecisionRecord>();
  readonly writes: string[] = [];
  refuse = 0;

  async put(r: DecisionRecord): Promise<void> {
    this.writes.push(r.arm);
    if (this.refuse > 0) {
      this.refuse--;
      throw new Error('Redis refused');
    }
    this.copies.set(r.id, r);
  }
}

function service(hot: FakeHot) {
  const owed = new OwedHotCopies(hot as unknown as DecisionHotStore, { DECISION_FLUSH_MS: 1_000_000 } as ApiEnv);
  const logged: DecisionRecord[] = [];
  const routing = new RoutingService(
    {} as PolicyCache,
    hot as unknown as DecisionHotStore,
    { push: (r: DecisionRecord) => logged.push(r) } as unknown as DecisionFlusher,
    owed,
    { state: () => ({}) } as unknown as SequentialStateService,
    {} as BreakerService,
    { decisionSeconds: { observe: () => undefined }, decisions: { inc: () => undefined } } as unknown as MetricsService,
    {} as EmbeddingFeatures,
    new Logger('test', 'error'),
  );
  const rt: PolicyRuntime = buildRuntime(POLICY, new Map(), armPriors(POLICY, new Map(), new Map()), 0);
  // The arm the policy picks is forced (decideOn's `chosen`), so the test decides which one falls back.
  const decide = () => routing.decideOn(CALLER, rt, Float64Array.from([1, 0.5, -0.5, 0.25]), [0, 1], { chosen: { arm: 0, propensity: 1 } });
  return { routing, owed, logged, decide };
}

describe('RoutingService: the hot copy written early and a fallback answering', () => {
  it('writes the pick once when the pick answers', async () => {
    const hot = new FakeHot();
    const { decide, logged, owed } = service(hot);
    const d = decide();
    d.prewrite();
    await d.record();
    expect(hot.writes).toEqual(['pick']);
    expect(hot.copies.get(d.response.decisionId)?.arm).toBe('pick');
    expect([logged.length, owed.size]).toEqual([1, 0]);
  });

  it("overwrites the pick's copy with the fallback's, retrying while Redis refuses", async () => {
    const hot = new FakeHot();
    const { decide, logged, owed } = service(hot);
    const d = decide();
    d.prewrite();
    hot.refuse = 2; // the pick's copy is in Redis; the next two writes (the fallback's) are refused
    await d.record('fallback');
    expect(hot.writes).toEqual(['pick', 'fallback', 'fallback', 'fallback']);
    const copy = hot.copies.get(d.response.decisionId);
    expect([copy?.arm, copy?.fallbackFrom]).toEqual(['fallback', 'pick']);
    expect(logged.map((r) => r.arm)).toEqual(['fallback']);
    expect(owed.size).toBe(0);
  });

  it("answers after about a second with the fallback's copy owed when Redis keeps refusing", async () => {
    const hot = new FakeHot();
    const { decide, logged, owed } = service(hot);
    const d = decide();
    d.prewrite();
    hot.refuse = 1_000_000;
    const t0 = Date.now();
    await d.record('fallback');
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(3000);
    expect(hot.writes.filter((a) => a === 'fallback').length).toBeGreaterThan(5);
    expect(hot.copies.get(d.response.decisionId)?.arm).toBe('pick'); // Redis still holds the stale copy ...
    expect(owed.size).toBe(1); // ... and this replica owes the fallback's, which its lookups prefer
    expect(logged.map((r) => r.arm)).toEqual(['fallback']);
  });

  it('does not wait when the early write failed too (no stale copy stands in Redis)', async () => {
    const hot = new FakeHot();
    hot.refuse = 1_000_000;
    const { decide, owed } = service(hot);
    const d = decide();
    d.prewrite();
    const t0 = Date.now();
    await d.record('fallback');
    expect(Date.now() - t0).toBeLessThan(500);
    expect(hot.writes).toEqual(['pick', 'fallback']);
    expect(owed.size).toBe(1);
  });
});
