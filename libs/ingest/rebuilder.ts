import { randomUUID } from 'node:crypto';
import { addArmStats, armStatsLength, emptyArmStats, headIndex, packArmStats, unpackArmStats, type ArmStats } from '@app/bandits';
import { DomainError } from '@app/errors';
import { type LearningDelta, sumDeltas } from '@app/learning';
import { type DecisionsRepository, type EventsRepository, type PoliciesRepository } from '@app/persistence';
import { type PolicyStateStore } from '@app/store';
import { decisionMarker, energySlotMarker, eventMarker, preferenceMarker, qualityMarker } from './markers.js';

export interface RebuildResult {
  policy: string;
  epoch: number;
  decisions: number;
  events: number;
  seq: number;
}

/**
 * Recomputes a policy's Redis learning state as the fold of its current epoch in the Postgres log (DESIGN.md §4:
 * "learning state equals the fold of the durable log"). Holds the state's rebuild lock meanwhile, so worker
 * batches wait instead of racing the replacement, and marks every folded item as applied so in-flight batches
 * do not count it again.
 */
export class Rebuilder {
  constructor(
    private readonly policies: PoliciesRepository,
    private readonly decisions: DecisionsRepository,
    private readonly events: EventsRepository,
    private readonly store: PolicyStateStore,
  ) {}

  async rebuild(name: string, onProgress: (rows: number) => void = () => undefined): Promise<RebuildResult> {
    const policy = await this.policies.get(name);
    if (!policy) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    const d = policy.features.dim;
    const target = this.store.policyTarget(name);
    const token = randomUUID();
    await this.store.lockRebuild(target, token);
    const arms = new Map<string, ArmStats>(policy.arms.map((a) => [a, emptyArmStats(d)]));
    const markers: { marker: string; claimer: string }[] = [];
    const fold = (items: LearningDelta[]) => {
      for (const [arm, blob] of sumDeltas(d, items)) {
        const s = arms.get(arm);
        if (s) addArmStats(s, unpackArmStats(blob, d));
      }
    };
    let nDecisions = 0;
    for await (const page of this.decisions.forEpoch(name, policy.epoch)) {
      fold(page.filter((r) => r.context.length === d).flatMap((r) => (r.arms?.length === 2 ? r.arms : [r.arm]).map((arm) => ({ kind: 'decision' as const, arm, x: r.context }))));
      for (const r of page) markers.push({ marker: decisionMarker(r.id), claimer: r.id });
      nDecisions += page.length;
      onProgress(nDecisions);
    }
    let nEvents = 0;
    const quality = new Map<string, { id: string; x: number[]; arm: string; reward: number; receivedAt: number; applied: boolean }>();
    const preferences = new Map<string, { id: string; receivedAt: number; applied: boolean }>();
    // Per decision: its measured readings and the proxy's estimate; the first reading holds the energy slot.
    type EnergyRow = { id: string; arm: string; x: number[]; joules: number; latencyMs: number | null; receivedAt: number };
    const energy = new Map<string, { readings: EnergyRow[]; estimate: EnergyRow | null }>();
    const energyOf = (decisionId: string) => {
      let e = energy.get(decisionId);
      if (!e) energy.set(decisionId, (e = { readings: [], estimate: null }));
      return e;
    };
    for await (const page of this.events.learnedForEpoch(name, policy.epoch)) {
      const items: LearningDelta[] = [];
      for (const e of page) {
        if (e.context.length !== d) continue;
        if (e.kind === 'pairwise') {
          // Only its marker: under "earliest" the preference already learnt (else the first received) keeps it.
          const marker = preferenceMarker(policy, e.decisionId, e.id);
          if (!marker.startsWith('p:')) {
            markers.push({ marker, claimer: e.id });
            continue;
          }
          const cur = preferences.get(e.decisionId);
          const cand = { id: e.id, receivedAt: e.receivedAt.getTime(), applied: e.applied };
          if (!cur || (cand.applied && !cur.applied) || (cand.applied === cur.applied && cand.receivedAt < cur.receivedAt)) preferences.set(e.decisionId, cand);
          continue;
        }
        if (e.kind === 'feedback' && e.reward !== null) {
          const marker = qualityMarker(policy, e.decisionId, e.id);
          if (marker.startsWith('q:')) {
            // "earliest": one quality signal per decision; keep the one already learnt, else the first received.
            const cur = quality.get(e.decisionId);
            const cand = { id: e.id, x: e.context, arm: e.arm, reward: e.reward, receivedAt: e.receivedAt.getTime(), applied: e.applied };
            if (!cur || (cand.applied && !cur.applied) || (cand.applied === cur.applied && cand.receivedAt < cur.receivedAt)) quality.set(e.decisionId, cand);
            continue;
          }
          items.push({ kind: 'observation', arm: e.arm, x: e.context, head: headIndex.quality, value: e.reward });
          markers.push({ marker, claimer: e.id });
        } else if (e.kind === 'usage') {
          if (e.costUsd !== null) items.push({ kind: 'observation', arm: e.arm, x: e.context, head: headIndex.cost, value: e.costUsd });
          if (e.latencyMs !== null) items.push({ kind: 'observation', arm: e.arm, x: e.context, head: headIndex.latency, value: e.latencyMs });
          markers.push({ marker: eventMarker(e.id), claimer: e.id });
          if (e.joules !== null) energyOf(e.decisionId).estimate = { id: e.id, arm: e.arm, x: e.context, joules: e.joules, latencyMs: null, receivedAt: e.receivedAt.getTime() };
        } else if (e.kind === 'energy' && e.joules !== null) {
          energyOf(e.decisionId).readings.push({ id: e.id, arm: e.arm, x: e.context, joules: e.joules, latencyMs: e.latencyMs, receivedAt: e.receivedAt.getTime() });
        }
      }
      fold(items);
      nEvents += page.length;
      onProgress(nDecisions + nEvents);
    }
    fold([...quality.values()].map((q) => ({ kind: 'observation', arm: q.arm, x: q.x, head: headIndex.quality, value: q.reward })));
    for (const [decisionId, q] of quality) markers.push({ marker: `q:${decisionId}`, claimer: q.id });
    for (const [decisionId, p] of preferences) markers.push({ marker: `p:${decisionId}`, claimer: p.id });
    // Energy: every reading is an observation (the first holds the slot); the estimate counts only without one.
    const energyItems: LearningDelta[] = [];
    for (const [decisionId, { readings, estimate }] of energy) {
      readings.sort((a, b) => a.receivedAt - b.receivedAt || (a.id < b.id ? -1 : 1));
      readings.forEach((r, i) => {
        energyItems.push({ kind: 'observation', arm: r.arm, x: r.x, head: headIndex.energy, value: r.joules });
        if (r.latencyMs !== null) energyItems.push({ kind: 'observation', arm: r.arm, x: r.x, head: headIndex.latency, value: r.latencyMs });
        markers.push({ marker: i === 0 ? energySlotMarker(decisionId) : eventMarker(r.id), claimer: r.id });
      });
      if (readings.length === 0 && estimate) {
        energyItems.push({ kind: 'observation', arm: estimate.arm, x: estimate.x, head: headIndex.energy, value: estimate.joules });
        markers.push({ marker: energySlotMarker(decisionId), claimer: estimate.id });
      }
    }
    fold(energyItems);

    const blobs = new Map<string, Float64Array>();
    for (const [arm, s] of arms) if (s.pulls > 0 || s.obs.some((o) => o > 0)) blobs.set(arm, packArmStats(s, new Float64Array(armStatsLength(d))));
    const seq = await this.store.replace(target, policy.epoch, blobs, markers, token);
    if (seq === null) throw new DomainError('UNAVAILABLE', `another rebuild of ${name} took over; try again`);
    await this.decisions.markEpochApplied(name, policy.epoch);
    await this.events.markEpochApplied(name, policy.epoch);
    return { policy: name, epoch: policy.epoch, decisions: nDecisions, events: nEvents, seq };
  }
}
