import { addArmStats, type ArmStats, armStatsLength, emptyArmStats, packArmStats, unpackArmStats } from '@app/bandits';
import { type PolicyConfig } from '@app/contracts';
import { type LearningDelta, sumDeltas } from '@app/learning';
import { decisionItem, type LearningDecision, type LearningItem, learningEvent, learningItems, type StoredEventValues } from './learning-items.js';
import { isContested, type Marker } from './markers.js';

/** A learnt event of the log, joined with its decision's context. */
export interface LogEvent extends StoredEventValues {
  decisionId: string;
  arm: string;
  context: readonly number[];
  applied: boolean;
  receivedAt: Date;
}

interface Candidate {
  item: LearningItem;
  applied: boolean;
  receivedAt: number;
}

/**
 * Which of the events competing for a marker claims it in a rebuild: measured values before the proxy's
 * estimates, then the one already learnt, then the first received (then the log's order).
 */
const byPrecedence = (a: Candidate, b: Candidate) =>
  Number(a.item.role === 'estimate') - Number(b.item.role === 'estimate') || Number(b.applied) - Number(a.applied) || a.receivedAt - b.receivedAt;

/**
 * The fold of a policy epoch's log into learning state (DESIGN.md §4): every decision's and learnt event's
 * learning items (learningItems, the rule the worker applies), each claimed exactly once. Items whose marker only
 * their own event or decision can claim are folded as they stream by; those a decision's events compete for (the
 * first thumb, the energy slot) are settled at the end in a fixed order, so the result does not depend on the
 * order the worker saw them in. Pure; pages are folded as they come, so memory holds only the contested items.
 */
export class LogFold {
  private readonly dim: number;
  private readonly arms: Map<string, ArmStats>;
  private readonly claims = new Map<Marker, string>();
  private readonly contested: Candidate[] = [];

  constructor(private readonly policy: Pick<PolicyConfig, 'arms' | 'features' | 'feedback'>) {
    this.dim = policy.features.dim;
    this.arms = new Map(policy.arms.map((a) => [a, emptyArmStats(this.dim)]));
  }

  addDecisions(page: readonly LearningDecision[]): void {
    const deltas: LearningDelta[] = [];
    for (const dec of page) this.claim(decisionItem(dec), deltas);
    this.fold(deltas);
  }

  addEvents(page: readonly LogEvent[]): void {
    const deltas: LearningDelta[] = [];
    for (const row of page) {
      // Recorded under another feature dimension: nothing of it fits this state.
      if (row.context.length !== this.dim) continue;
      const event = learningEvent(row, row.arm);
      if (!event) continue;
      for (const item of learningItems(event, { id: row.decisionId, arm: row.arm, x: row.context }, this.policy)) {
        if (isContested(item.marker)) this.contested.push({ item, applied: row.applied, receivedAt: row.receivedAt.getTime() });
        else this.claim(item, deltas);
      }
    }
    this.fold(deltas);
  }

  /** The state per arm (arms never touched are left out) and every marker claimed, with its claimer. */
  result(): { blobs: Map<string, Float64Array>; markers: { marker: string; claimer: string }[] } {
    const deltas: LearningDelta[] = [];
    for (const c of this.contested.sort(byPrecedence)) this.claim(c.item, deltas);
    this.contested.length = 0;
    this.fold(deltas);
    const blobs = new Map<string, Float64Array>();
    for (const [arm, s] of this.arms) if (s.pulls > 0 || s.obs.some((o) => o > 0)) blobs.set(arm, packArmStats(s, new Float64Array(armStatsLength(this.dim))));
    return { blobs, markers: [...this.claims].map(([marker, claimer]) => ({ marker, claimer })) };
  }

  private claim(item: LearningItem, deltas: LearningDelta[]): void {
    const holder = this.claims.get(item.marker);
    if (holder === undefined) {
      this.claims.set(item.marker, item.claimer);
      deltas.push(...item.deltas);
      return;
    }
    if (holder === item.claimer || !item.fallback) return;
    // Estimates come after every measured reading, so a reading never finds one in its slot here.
    this.claim(item.fallback.kind === 'item' ? item.fallback.item : item.fallback.otherwise, deltas);
  }

  /** Adds deltas of this state's dimension to the arms it has. */
  private fold(deltas: readonly LearningDelta[]): void {
    for (const [arm, blob] of sumDeltas(
      this.dim,
      deltas.filter((d) => d.x.length === this.dim),
    )) {
      const s = this.arms.get(arm);
      if (s) addArmStats(s, unpackArmStats(blob, this.dim));
    }
  }
}
