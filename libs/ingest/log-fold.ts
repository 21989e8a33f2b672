import { addArmStats, type ArmStats, armStatsLength, emptyArmStats, finish, packArmStats, type Steps, unpackArmStats } from '@app/bandits';
import { type PolicyConfig } from '@app/contracts';
import { type LearningDelta, sumDeltasSteps } from '@app/learning';
import { byClaimer, decisionItem, type LearningDecision, type LearningItem, learningEvent, learningItems, type StoredEventValues } from './learning-items.js';
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

/** The folded state per arm and the markers to write with it. */
export interface FoldResult {
  blobs: Map<string, Float64Array>;
  markers: { marker: string; claimer: string }[];
}

/** A decision of the log as the fold takes it: whether its pass closed and when it was made, where known. */
export interface FoldDecision extends LearningDecision {
  applied?: boolean;
  createdAt?: number;
}

/**
 * Which of the events competing for a marker claims it in a rebuild: measured values before the proxy's
 * estimates, then the one already learnt, then the first received, then by id (as a pass orders them: planPass).
 */
const byPrecedence = (a: Candidate, b: Candidate) =>
  Number(a.item.role === 'estimate') - Number(b.item.role === 'estimate') ||
  Number(b.applied) - Number(a.applied) ||
  a.receivedAt - b.receivedAt ||
  byClaimer(a.item, b.item);

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
  /** Each marker claimed, its claimer, and whether the rebuild writes it (see the constructor). */
  private readonly claims = new Map<Marker, { claimer: string; keep: boolean }>();
  private readonly contested: Candidate[] = [];

  /**
   * `markersSince` (ms): the markers the result lists are those of items not yet applied (a pass may still be
   * committing them) or made or received since then; older ones' markers would have expired in the live state
   * anyway (the commits expire markers a day after they are set), and a long log has millions. Default: all.
   */
  constructor(
    private readonly policy: Pick<PolicyConfig, 'arms' | 'features' | 'feedback'>,
    private readonly markersSince = -Infinity,
  ) {
    this.dim = policy.features.dim;
    this.arms = new Map(policy.arms.map((a) => [a, emptyArmStats(this.dim)]));
  }

  addDecisions(page: readonly FoldDecision[]): void {
    finish(this.addDecisionsSteps(page));
  }

  /** addDecisions in steps (O(d²) each: a page of thousands at a large dim is seconds of CPU). */
  *addDecisionsSteps(page: readonly FoldDecision[]): Steps<void> {
    const deltas: LearningDelta[] = [];
    for (const dec of page) this.claim(decisionItem(dec), deltas, this.kept(dec.applied, dec.createdAt));
    yield* this.fold(deltas);
  }

  addEvents(page: readonly LogEvent[]): void {
    finish(this.addEventsSteps(page));
  }

  /** addEvents in steps. */
  *addEventsSteps(page: readonly LogEvent[]): Steps<void> {
    const deltas: LearningDelta[] = [];
    for (const row of page) {
      // Recorded under another feature dimension: nothing of it fits this state.
      if (row.context.length !== this.dim) continue;
      const event = learningEvent(row, row.arm);
      if (!event) continue;
      for (const item of learningItems(event, { id: row.decisionId, arm: row.arm, x: row.context }, this.policy)) {
        if (isContested(item.marker)) this.contested.push({ item, applied: row.applied, receivedAt: row.receivedAt.getTime() });
        else this.claim(item, deltas, this.kept(row.applied, row.receivedAt.getTime()));
      }
    }
    yield* this.fold(deltas);
  }

  /** The state per arm (arms never touched are left out) and every marker claimed, with its claimer. */
  result(): FoldResult {
    return finish(this.resultSteps());
  }

  /** result in steps. */
  *resultSteps(): Steps<FoldResult> {
    const deltas: LearningDelta[] = [];
    for (const c of this.contested.sort(byPrecedence)) this.claim(c.item, deltas, this.kept(c.applied, c.receivedAt));
    this.contested.length = 0;
    yield* this.fold(deltas);
    const blobs = new Map<string, Float64Array>();
    for (const [arm, s] of this.arms) if (s.pulls > 0 || s.obs.some((o) => o > 0)) blobs.set(arm, packArmStats(s, new Float64Array(armStatsLength(this.dim))));
    const markers: { marker: string; claimer: string }[] = [];
    for (const [marker, { claimer, keep }] of this.claims) if (keep) markers.push({ marker, claimer });
    return { blobs, markers };
  }

  /** Whether an item's marker is written: not applied yet, or not older than markersSince (unknown: written). */
  private kept(applied: boolean | undefined, at: number | undefined): boolean {
    return applied !== true || at === undefined || at >= this.markersSince;
  }

  private claim(item: LearningItem, deltas: LearningDelta[], keep: boolean): void {
    const holder = this.claims.get(item.marker);
    if (holder === undefined) {
      this.claims.set(item.marker, { claimer: item.claimer, keep });
      deltas.push(...item.deltas);
      return;
    }
    if (holder.claimer === item.claimer || !item.fallback) return;
    // Estimates come after every measured reading, so a reading never finds one in its slot here.
    this.claim(item.fallback.kind === 'item' ? item.fallback.item : item.fallback.otherwise, deltas, keep);
  }

  /** Adds deltas of this state's dimension to the arms it has. */
  private *fold(deltas: readonly LearningDelta[]): Steps<void> {
    for (const [arm, blob] of yield* sumDeltasSteps(
      this.dim,
      deltas.filter((d) => d.x.length === this.dim),
    )) {
      const s = this.arms.get(arm);
      if (s) addArmStats(s, unpackArmStats(blob, this.dim));
    }
  }
}
