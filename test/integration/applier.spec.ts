import { jest } from '@jest/globals';
import { headIndex, HEAD_COUNT, unpackArmStats } from '@app/bandits';
import { type DecisionRecord, type EnergyJob, type FeedbackJob, type PolicyConfig, policyConfigSchema, type UsageJob } from '@app/contracts';
import { EventApplier, ModelEnergyEstimator, Rebuilder } from '@app/ingest';
import { type LearningDelta, sumDeltas } from '@app/learning';
import { createSql, DecisionsRepository, EventsRepository, PoliciesRepository, type Sql } from '@app/persistence';
import { DecisionHotStore, ModelEnergyStore, PolicyStateStore } from '@app/store';
import { createRng } from '@app/bandits';
import { Redis } from 'ioredis';
import { freshEnvironment, REDIS_URL } from '../support/harness.js';
import { eventRow } from '../support/rows.js';
import { recordFaultResult } from '../support/fold.js';
import { relErr } from '../../libs/bandits/testing/rel-err.js';

const D = 8;
const ARMS = ['a', 'b', 'c'];

describe('exactly-once application to Redis state (real Redis + Postgres)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  const sqls: Sql[] = [];
  const redises: Redis[] = [];
  const appliers: EventApplier[] = [];
  let store: PolicyStateStore;
  let rebuilder: Rebuilder;
  const decisions: DecisionRecord[] = [];
  const feedback: FeedbackJob[] = [];
  const energy: EnergyJob[] = [];
  const usage: UsageJob[] = [];

  beforeAll(async () => {
    env = await freshEnvironment('applier');
    for (let i = 0; i < 4; i++) {
      const sql = createSql(env.databaseUrl, 4);
      const redis = new Redis(REDIS_URL);
      sqls.push(sql);
      redises.push(redis);
      const policies = new PoliciesRepository(sql);
      const decRepo = new DecisionsRepository(sql);
      const evRepo = new EventsRepository(sql);
      const st = new PolicyStateStore(redis, env.prefix);
      const rb = new Rebuilder(policies, decRepo, evRepo, st);
      appliers.push(
        new EventApplier(
          policies,
          decRepo,
          evRepo,
          new DecisionHotStore(redis, env.prefix),
          st,
          rb,
          new ModelEnergyEstimator(evRepo, new ModelEnergyStore(redis, env.prefix)),
        ),
      );
      if (i === 0) {
        store = st;
        rebuilder = rb;
      }
    }
    const config: PolicyConfig = policyConfigSchema.parse({ algorithm: 'linucb', arms: ARMS, features: { source: 'caller', dim: D } });
    const { policy } = await new PoliciesRepository(sqls[0]).put('p', config, 'test', () => false);
    await store.replace(store.policyTarget('p'), policy.epoch, new Map());

    const rng = createRng(99);
    const now = Date.now();
    for (let i = 0; i < 1500; i++) {
      const x = Array.from({ length: D }, () => rng.normal());
      const armIndex = rng.int(ARMS.length);
      const id = `d${i}`;
      decisions.push({
        id,
        policy: 'p',
        epoch: 1,
        policyVersion: 1,
        arm: ARMS[armIndex],
        armIndex,
        propensity: 1 / 3,
        x,
        owner: 'o',
        mode: 'single',
        estimates: [],
        createdAt: now,
      });
      if (rng.next() < 0.7) feedback.push({ eventId: `f${i}`, decisionId: id, reward: rng.next(), receivedAt: now });
      if (rng.next() < 0.3) feedback.push({ eventId: `f${i}-second`, decisionId: id, reward: 1, receivedAt: now + 1 }); // "earliest": not learnt twice
      // As the api does at route time: the hot copy exists before any feedback can name the decision.
      await new DecisionHotStore(redises[0], env.prefix).put(decisions[decisions.length - 1], 3600);
      if (rng.next() < 0.5) energy.push({ eventId: `e${i}`, decisionId: id, joules: 10 + 100 * rng.next(), latencyMs: 200 * rng.next(), receivedAt: now });
      if (rng.next() < 0.15)
        energy.push({ eventId: `e${i}-second`, decisionId: id, joules: 10 + 100 * rng.next(), latencyMs: 200 * rng.next(), receivedAt: now + 1 });
      // Proxied decisions: a usage event with cost, latency and a provisional energy estimate (replaced by a reading).
      if (rng.next() < 0.4)
        usage.push({
          eventId: `usage:${id}`,
          decisionId: id,
          model: ARMS[armIndex],
          answered: true,
          inputTokens: 10,
          outputTokens: 20,
          costUsd: rng.next() / 1000,
          energyEstimateJ: 5 + 50 * rng.next(),
          latencyMs: 100 + 100 * rng.next(),
          ttftMs: 10,
          attempts: [],
          receivedAt: now,
        });
    }
  });

  afterAll(async () => {
    await Promise.all(redises.map((r) => r.quit()));
    await Promise.all(sqls.map((s) => s.end()));
    await env.drop();
  });

  it('4 concurrent appliers fed the same events (duplicates, random batches) equal the sequential fold (1e-9)', async () => {
    const all = [
      ...decisions.map((d) => ({ kind: 'd' as const, d })),
      ...feedback.map((f) => ({ kind: 'f' as const, f })),
      ...energy.map((e) => ({ kind: 'e' as const, e })),
      ...usage.map((u) => ({ kind: 'u' as const, u })),
    ];
    await Promise.all(
      appliers.map(async (applier, w) => {
        const rng = createRng(500 + w);
        const order = [...all];
        for (let i = order.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        for (let i = 0; i < order.length;) {
          const n = 1 + rng.int(300);
          const chunk = order.slice(i, i + n);
          i += n;
          const input = {
            decisions: chunk.flatMap((c) => (c.kind === 'd' ? [c.d] : [])),
            feedback: chunk.flatMap((c) => (c.kind === 'f' ? [c.f] : [])),
            energy: chunk.flatMap((c) => (c.kind === 'e' ? [c.e] : [])),
            usage: chunk.flatMap((c) => (c.kind === 'u' ? [c.u] : [])),
          };
          // As BullMQ does for a failed job (e.g. a Postgres deadlock between concurrent workers): retry the batch.
          for (let attempt = 1; ; attempt++) {
            try {
              await applier.apply(input);
              break;
            } catch (err) {
              if (attempt >= 10) throw err;
              await new Promise((r) => setTimeout(r, 20 * attempt));
            }
          }
        }
      }),
    );

    // Sequential fold of what must count: every decision, the first thumb of each decision, every energy reading,
    // every usage event's cost and latency, and its energy estimate only for decisions without a reading.
    const stored = await sqls[0]<{ id: string; decision_id: string }[]>`select id, decision_id from events where kind = 'feedback' and status = 'learned'`;
    const learntFeedback = new Set(stored.map((r) => r.id));
    expect(learntFeedback.size).toBe(new Set(feedback.map((f) => f.decisionId)).size);
    const byId = new Map(decisions.map((d) => [d.id, d]));
    const items: LearningDelta[] = decisions.map((d) => ({ kind: 'decision', arm: d.arm, x: d.x }));
    for (const f of feedback)
      if (learntFeedback.has(f.eventId))
        items.push({ kind: 'observation', arm: byId.get(f.decisionId)!.arm, x: byId.get(f.decisionId)!.x, head: headIndex.quality, value: f.reward });
    for (const e of energy) {
      const d = byId.get(e.decisionId!)!;
      items.push({ kind: 'observation', arm: d.arm, x: d.x, head: headIndex.energy, value: e.joules });
      items.push({ kind: 'observation', arm: d.arm, x: d.x, head: headIndex.latency, value: e.latencyMs! });
    }
    const measured = new Set(energy.map((e) => e.decisionId));
    for (const u of usage) {
      const d = byId.get(u.decisionId!)!;
      items.push({ kind: 'observation', arm: d.arm, x: d.x, head: headIndex.cost, value: u.costUsd! });
      items.push({ kind: 'observation', arm: d.arm, x: d.x, head: headIndex.latency, value: u.latencyMs });
      if (!measured.has(u.decisionId)) items.push({ kind: 'observation', arm: d.arm, x: d.x, head: headIndex.energy, value: u.energyEstimateJ! });
    }
    expect(usage.filter((u) => measured.has(u.decisionId)).length).toBeGreaterThan(50); // the replacement path is exercised
    const expected = sumDeltas(D, items);
    const state = await store.read(store.policyTarget('p'));
    for (const arm of ARMS) expect(relErr(state.arms.get(arm)!, expected.get(arm)!)).toBeLessThan(1e-9);
    const totalPulls = ARMS.reduce((s, a) => s + unpackArmStats(state.arms.get(a)!, D).pulls, 0);
    expect(totalPulls).toBe(decisions.length);
    const pending = await sqls[0]`select count(*)::int as n from events where not applied`;
    expect(pending[0].n).toBe(0);
  });

  it('rebuild after flushing the policy keys gives the same numbers (1e-9)', async () => {
    const before = await store.read(store.policyTarget('p'));
    await redises[0].del(store.keys.state('p'), store.keys.markers('p'), store.keys.markerTimes('p'));
    expect((await store.read(store.policyTarget('p'))).arms.size).toBe(0);
    const t0 = Date.now();
    const r = await rebuilder.rebuild('p');
    const rebuildMs = Date.now() - t0;
    expect(r.decisions).toBe(decisions.length);
    const after = await store.read(store.policyTarget('p'));
    for (const arm of ARMS) expect(relErr(after.arms.get(arm)!, before.arms.get(arm)!)).toBeLessThan(1e-9);
    // Re-applying everything after the rebuild changes nothing (markers were restored by the rebuild).
    await appliers[1].apply({ decisions, feedback, energy, usage });
    const again = await store.read(store.policyTarget('p'));
    for (const arm of ARMS) expect(relErr(again.arms.get(arm)!, before.arms.get(arm)!)).toBeLessThan(1e-9);
    expect(HEAD_COUNT).toBe(4);
    recordFaultResult({
      scenario: '3. Redis state flushed',
      injected: 'DEL of the policy state and its markers, then rebuild; then every event applied again',
      events: decisions.length + feedback.length + energy.length + usage.length,
      lost: 0,
      duplicated: 0,
      maxLagMs: rebuildMs,
      duringFault: `rebuild = state before (1e-9); re-applying everything after it changes nothing (1e-9)`,
    });
  });

  it('an applier finding the state flushed rebuilds it before applying', async () => {
    const before = await store.read(store.policyTarget('p'));
    await redises[0].del(store.keys.state('p'), store.keys.markers('p'), store.keys.markerTimes('p'));
    const x = Array.from({ length: D }, (_, i) => i / D);
    const extra: DecisionRecord = { ...decisions[0], id: 'late-arrival', x };
    await appliers[2].apply({ decisions: [extra], feedback: [], energy: [] });
    const after = await store.read(store.policyTarget('p'));
    const exp = sumDeltas(D, [{ kind: 'decision', arm: extra.arm, x }]).get(extra.arm)!;
    const b = before.arms.get(extra.arm)!;
    const a = after.arms.get(extra.arm)!;
    const diff = a.map((v, i) => v - b[i]);
    expect(relErr(diff, exp)).toBeLessThan(1e-9);
  });

  it('a policy deleted while a pass runs closes its own items and lets the rest of the pass be learnt', async () => {
    const sql = sqls[0];
    const repo = new PoliciesRepository(sql);
    const config: PolicyConfig = policyConfigSchema.parse({ algorithm: 'linucb', arms: ARMS, features: { source: 'caller', dim: D } });
    const { policy } = await repo.put('gone', config, 'test', () => false);
    await store.replace(store.policyTarget('gone'), policy.epoch, new Map());
    const x = Array.from({ length: D }, (_, i) => (i + 1) / D);
    const of = (name: string, id: string): DecisionRecord => ({ ...decisions[0], policy: name, epoch: policy.epoch, id, x });
    // The pass planned with the policy (its applier read it before the delete: a repository that still answers
    // it)… and it is deleted, its state with it, before the pass reaches Redis (whose rebuild reads the real one).
    class Remembering extends PoliciesRepository {
      override get = (name: string) => (name === 'gone' ? Promise.resolve(policy) : repo.get(name));
    }
    const evRepo = new EventsRepository(sql);
    const rebuild = new Rebuilder(repo, new DecisionsRepository(sql), evRepo, store);
    const rebuilds = jest.spyOn(rebuild, 'rebuild');
    const applier = new EventApplier(
      new Remembering(sql),
      new DecisionsRepository(sql),
      evRepo,
      new DecisionHotStore(redises[0], env.prefix),
      store,
      rebuild,
      new ModelEnergyEstimator(evRepo, new ModelEnergyStore(redises[0], env.prefix)),
    );
    await repo.delete('gone', 'test');
    await redises[0].del(store.keys.state('gone'));
    const before = await store.read(store.policyTarget('p'));
    await applier.apply({ decisions: [of('gone', 'gone-late'), { ...decisions[0], id: 'kept-beside-gone', x }], feedback: [], energy: [] });
    expect(rebuilds).toHaveBeenCalledWith('gone');
    const after = await store.read(store.policyTarget('p'));
    const exp = sumDeltas(D, [{ kind: 'decision', arm: decisions[0].arm, x }]).get(decisions[0].arm)!;
    const was = before.arms.get(decisions[0].arm) ?? new Float64Array(exp.length); // none yet when run alone
    const diff = after.arms.get(decisions[0].arm)!.map((v, i) => v - was[i]);
    expect(relErr(diff, exp)).toBeLessThan(1e-9);
    const rows = await sql<{ id: string; applied: boolean }[]>`select id, applied from decisions where id in ('gone-late', 'kept-beside-gone') order by id`;
    expect(rows).toEqual([
      { id: 'gone-late', applied: true },
      { id: 'kept-beside-gone', applied: true },
    ]);
  });

  it('fills in a decision first stored from its hot copy once its batch arrives, though the applier remembers what it applied', async () => {
    const full: DecisionRecord = { ...decisions[1], id: 'bare-then-full', estimates: [{ arm: 'a', score: 0.5 }] };
    await new DecisionHotStore(redises[3], env.prefix).put({ ...full, estimates: [] }, 3600);
    const fb = (eventId: string): FeedbackJob => ({ eventId, decisionId: full.id, reward: 1, receivedAt: Date.now() });
    // Feedback first: the decision is stored (bare) and applied from its hot copy, then its batch brings estimates.
    await appliers[3].apply({ decisions: [], feedback: [fb('bare-1')], energy: [] });
    await appliers[3].apply({ decisions: [full], feedback: [fb('bare-2')], energy: [] });
    await appliers[3].apply({ decisions: [full], feedback: [fb('bare-3')], energy: [] });
    const stored = (await new DecisionsRepository(sqls[3]).getMany([full.id])).get(full.id)!;
    expect(stored.estimates).toEqual(full.estimates);
    expect(stored.applied).toBe(true);
  });

  it('joins later events of a decision it saw in a batch without looking the decision up again', async () => {
    const hot = new DecisionHotStore(redises[2], env.prefix);
    const decRepo = new DecisionsRepository(sqls[2]);
    const evRepo = new EventsRepository(sqls[2]);
    const policies = new PoliciesRepository(sqls[2]);
    const applier = new EventApplier(
      policies,
      decRepo,
      evRepo,
      hot,
      store,
      rebuilder,
      new ModelEnergyEstimator(evRepo, new ModelEnergyStore(redises[2], env.prefix)),
    );
    const seen: DecisionRecord = { ...decisions[2], id: 'seen-in-batch', estimates: [{ arm: 'a', score: 0.5 }] };
    await applier.apply({ decisions: [seen], feedback: [], energy: [] });
    const hotReads = jest.spyOn(hot, 'getMany');
    const logReads = jest.spyOn(decRepo, 'getMany');
    const out = await applier.apply({ decisions: [], feedback: [{ eventId: 'seen-fb', decisionId: seen.id, reward: 1, receivedAt: Date.now() }], energy: [] });
    expect(out).toMatchObject({ orphans: [], applied: 1 });
    expect(hotReads).not.toHaveBeenCalled();
    expect(logReads).not.toHaveBeenCalled();
    // Another decision, seen by no pass of this applier: looked up (its hot copy).
    await hot.put({ ...decisions[3], id: 'unseen' }, 3600);
    await applier.apply({ decisions: [], feedback: [{ eventId: 'unseen-fb', decisionId: 'unseen', reward: 1, receivedAt: Date.now() }], energy: [] });
    expect(hotReads).toHaveBeenCalledWith(['unseen']);
  });

  it("learns what the log stored of an event id, with the stored row's decision, whichever copy its batch holds", async () => {
    // A pass stored E for d1 (reward 1) and stopped; another request's copy of E names d2 (reward 0) and reaches a
    // pass that also holds both decisions: E is learnt once, as stored (d1, reward 1); d2 gets no quality from it.
    const [x1, x2] = [Array.from({ length: D }, (_, i) => (i + 1) / D), Array.from({ length: D }, (_, i) => (D - i) / D)];
    const d1: DecisionRecord = { ...decisions[4], id: 'copy-d1', arm: 'a', armIndex: 0, x: x1 };
    const d2: DecisionRecord = { ...decisions[5], id: 'copy-d2', arm: 'b', armIndex: 1, x: x2 };
    const events = new EventsRepository(sqls[0]);
    const at = Date.now();
    await new DecisionsRepository(sqls[0]).insertMany([d1]);
    await events.insertMany([eventRow('copy-e', { decisionId: d1.id, policy: 'p', epoch: 1, arm: 'a', reward: 1, receivedAt: at })]);
    const target = store.policyTarget('p');
    const before = await store.read(target);
    const out = await appliers[1].apply({
      decisions: [d1, d2],
      feedback: [{ eventId: 'copy-e', decisionId: d2.id, reward: 0, receivedAt: at + 5 }],
      energy: [],
    });
    expect(out.applied).toBe(3);
    expect([await store.markerOwner(target, 'q:copy-d1'), await store.markerOwner(target, 'q:copy-d2')]).toEqual(['copy-e', null]);
    const after = await store.read(target);
    const want = sumDeltas(D, [
      { kind: 'decision', arm: 'a', x: x1 },
      { kind: 'decision', arm: 'b', x: x2 },
      { kind: 'observation', arm: 'a', x: x1, head: headIndex.quality, value: 1 },
    ]);
    // An arm the state did not hold yet (this test run alone) counts as zeros.
    const armOf = (st: typeof before, arm: string) => st.arms.get(arm) ?? new Float64Array(want.get(arm)!.length);
    for (const arm of ['a', 'b']) {
      const diff = armOf(after, arm).map((v, i) => v - armOf(before, arm)[i]);
      expect([arm, relErr(diff, want.get(arm)!) < 1e-9]).toEqual([arm, true]);
    }
    const [row] = await sqls[0]<
      { decisionId: string; reward: number; applied: boolean }[]
    >`select decision_id as "decisionId", reward, applied from events where id = 'copy-e'`;
    expect(row).toEqual({ decisionId: d1.id, reward: 1, applied: true });
    // The same copy again (a retry): nothing more.
    await appliers[2].apply({ decisions: [d2], feedback: [{ eventId: 'copy-e', decisionId: d2.id, reward: 0, receivedAt: at + 5 }], energy: [] });
    const again = await store.read(target);
    for (const arm of ['a', 'b']) expect(relErr(again.arms.get(arm)!, after.arms.get(arm)!)).toBeLessThan(1e-12);
    expect(unpackArmStats(armOf(again, 'b'), D).obs[headIndex.quality]).toBe(unpackArmStats(armOf(before, 'b'), D).obs[headIndex.quality]);
  });
});
