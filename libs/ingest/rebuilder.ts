import { randomUUID } from 'node:crypto';
import { DomainError } from '@app/errors';
import { runInSlices } from '@app/infra';
import { type DecisionsRepository, type EventsRepository, type PoliciesRepository } from '@app/persistence';
import { type PolicyStateStore } from '@app/store';
import { LogFold } from './log-fold.js';

/** The answer while another rebuild of the policy's state is under way: retry shortly (503). */
export const rebuildRunning = (name: string) => new DomainError('UNAVAILABLE', `a rebuild of ${name} is under way; try again shortly`, [], 5);

/** Whether an error is rebuildRunning's (or a rebuild that lost its lock): another rebuild is doing the work. */
export const isRebuildUnderWay = (err: unknown): boolean => err instanceof DomainError && err.code === 'UNAVAILABLE';

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
 * do not count it again. The fold (LogFold) applies the worker's own rule (learningItems).
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
    const target = this.store.policyTarget(name);
    const token = randomUUID();
    // One rebuild of a state at a time: another under way is left to finish (its lock expires if it died).
    const hold = async () => {
      if ((await this.store.lockRebuild(target, token)) < 0) throw rebuildRunning(name);
    };
    await hold();
    // Markers of items applied before the live markers' lifetime are left out (an hour's margin): they would have
    // expired, and a long log has millions of them, which Redis would write while every other client waits.
    const fold = new LogFold(policy, Date.now() - this.store.markerTtlMs - 3_600_000);
    let decisions = 0;
    for await (const page of this.decisions.forEpoch(name, policy.epoch)) {
      // In slices: a page is seconds of CPU at a large dim, on a thread that also answers requests (or runs passes).
      await runInSlices(
        fold.addDecisionsSteps(page.map((r) => ({ id: r.id, arm: r.arm, arms: r.arms, x: r.context, applied: r.applied, createdAt: r.createdAt.getTime() }))),
      );
      decisions += page.length;
      onProgress(decisions);
      await hold(); // a long fold keeps its lock (60 s from each page)
    }
    let events = 0;
    for await (const page of this.events.learnedForEpoch(name, policy.epoch)) {
      await runInSlices(fold.addEventsSteps(page));
      events += page.length;
      onProgress(decisions + events);
      await hold();
    }
    const { blobs, markers } = (await runInSlices(fold.resultSteps())).value;
    const seq = await this.store.replace(target, policy.epoch, blobs, markers, token);
    if (seq === null) throw new DomainError('UNAVAILABLE', `another rebuild of ${name} took over; try again`);
    await this.decisions.markEpochApplied(name, policy.epoch);
    await this.events.markEpochApplied(name, policy.epoch);
    return { policy: name, epoch: policy.epoch, decisions, events, seq };
  }
}
