import { Injectable } from '@nestjs/common';
import { createRng, HEADS } from '@app/bandits';
import {
  candidateHeadEstimateSchema,
  type EvaluateRequest,
  evaluationResponseSchema,
  type FrontierRequest,
  frontierResponseSchema,
  headEstimateSchema,
  budgetRefused,
  type Policy,
  same,
  type Same,
} from '@app/contracts';
import { DomainError } from '@app/errors';
import {
  type CandidateEvaluation,
  type CandidateHeadEstimate,
  evaluateCandidateSteps,
  type HeadEstimate,
  type LoggedDecision,
  type PolicyRuntime,
  withStartPrices,
} from '@app/learning';
import { DecisionsRepository, PoliciesRepository } from '@app/persistence';
import { type z } from 'zod';
import { PolicyCache } from '../routing/policy-cache.service.js';
import { runInSlices } from '@app/infra';

// Compile-time: the response schemas' estimates are the ones libs/learning computes.
same<Same<z.output<typeof headEstimateSchema>, HeadEstimate>>(true);
same<Same<z.output<typeof candidateHeadEstimateSchema>, CandidateHeadEstimate>>(true);

const WINDOW_DEFAULT_MS = 7 * 86_400_000;
const FRONTIER_RESAMPLES = 100;
/** Response names of the heads (the units are in the names, as in stats). */
const HEAD_NAMES = { quality: 'quality', energy: 'energyJoules', cost: 'costUsd', latency: 'latencyMs' } as const;

type Candidate = EvaluateRequest['candidate'];

/** The live policy with a candidate's changes: other weights, exploration, or budget (null removes it). */
function variant(p: Policy, c: Candidate): Policy {
  const v: Policy = { ...p, objective: { ...p.objective, ...c.objective }, params: { ...p.params, ...c.params } };
  if (c.budget === null) delete v.budget;
  else if (c.budget !== undefined) v.budget = c.budget;
  // The live start price was searched for the live objective and limits: another candidate starts from 0.
  if (v.budgetSince && (c.objective !== undefined || c.budget !== undefined)) v.budgetSince = withStartPrices(v.budgetSince, undefined);
  return v;
}

/** A candidate's budget on a policy that cannot take one (budgetRefused): 400 naming `candidate.budget`. */
function assertBudgetFits(p: Policy, c: Candidate): void {
  const refused = c.budget ? budgetRefused(p) : null;
  if (refused) throw new DomainError('VALIDATION', `policy ${p.name} cannot take a budget`, [{ path: 'candidate.budget', message: refused }]);
}

/**
 * An evaluation on this replica's one thread, in slices: seconds of CPU for thousands of logged decisions, during
 * which its routes keep being answered.
 */
async function evaluateInSlices(live: PolicyRuntime, candidate: PolicyRuntime, logged: readonly LoggedDecision[], signal?: AbortSignal, resamples?: number) {
  return (await runInSlices(evaluateCandidateSteps(live, candidate, logged, createRng(0x0be), resamples), undefined, signal)).value;
}

function named(e: CandidateEvaluation) {
  const rename = <T>(r: Record<(typeof HEADS)[number], T>) =>
    Object.fromEntries(HEADS.map((h) => [HEAD_NAMES[h], r[h]])) as { [H in (typeof HEADS)[number] as (typeof HEAD_NAMES)[H]]: T };
  return {
    n: e.n,
    effectiveSampleSize: e.effectiveSampleSize,
    logged: rename(e.logged),
    candidate: { ...rename(e.candidate), shares: e.candidate.shares },
    warnings: e.warnings,
  };
}

/**
 * "What would this trade-off have done?": off-policy estimates of a candidate on the policy's logged decisions
 * (libs/learning evaluate-candidate), before anything is applied. Read-only: nothing learnt or changed. The policy
 * is compiled once from its state; each candidate reuses its compiled arms (a weight, exploration or budget acts
 * after them). `signal`: the client left, the work stops.
 */
@Injectable()
export class EvaluationService {
  constructor(
    private readonly policies: PoliciesRepository,
    private readonly decisions: DecisionsRepository,
    private readonly cache: PolicyCache,
  ) {}

  async evaluate(name: string, req: EvaluateRequest, signal?: AbortSignal): Promise<z.output<typeof evaluationResponseSchema>> {
    const { p, live, logged } = await this.logged(name, req, signal);
    const cand = await this.cache.compileVariant(variant(p, req.candidate), live, signal);
    return { policy: name, changes: req.candidate, ...named(await evaluateInSlices(live, cand, logged, signal)) };
  }

  async frontier(name: string, req: FrontierRequest, signal?: AbortSignal): Promise<z.output<typeof frontierResponseSchema>> {
    const { p, live, logged } = await this.logged(name, req, signal);
    const points = [];
    for (const value of req.values) {
      const c: Candidate = { ...req.candidate, objective: { ...req.candidate.objective, [req.weight]: value } };
      const cand = await this.cache.compileVariant(variant(p, c), live, signal);
      // Fewer resamples per point than a single evaluate: a frontier is up to 20 of them on this replica's thread.
      const e = named(await evaluateInSlices(live, cand, logged, signal, FRONTIER_RESAMPLES));
      points.push({ value, n: e.n, effectiveSampleSize: e.effectiveSampleSize, candidate: e.candidate, warnings: e.warnings });
    }
    return {
      policy: name,
      weight: req.weight,
      current: p.objective[req.weight],
      logged: points.length > 0 ? await this.loggedOnly(live, logged, signal) : null,
      points,
    };
  }

  private async loggedOnly(live: PolicyRuntime, logged: LoggedDecision[], signal?: AbortSignal) {
    return named(await evaluateInSlices(live, live, logged, signal)).logged;
  }

  private async logged(name: string, req: { since?: string; until?: string; limit: number; candidate: Candidate }, signal?: AbortSignal) {
    const p = await this.policies.get(name);
    if (!p) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    assertBudgetFits(p, req.candidate);
    const until = req.until ? new Date(req.until) : new Date();
    const since = req.since ? new Date(req.since) : new Date(until.getTime() - WINDOW_DEFAULT_MS);
    if (!(since < until)) throw new DomainError('VALIDATION', 'since must be before until', [{ path: 'since', message: 'must be before until' }]);
    const live = await this.cache.compileVariant(p, undefined, signal);
    const rows = await this.decisions.loggedOutcomes(name, p.epoch, since, until, req.limit);
    const logged: LoggedDecision[] = [];
    for (const r of rows) {
      const served = live.armIndex.get(r.arm);
      const candidates = r.candidates.map((m) => live.armIndex.get(m)).filter((a): a is number => a !== undefined);
      if (served === undefined || r.context.length !== p.features.dim || !(r.propensity > 0)) continue;
      logged.push({
        x: Float64Array.from(r.context),
        candidates,
        served,
        propensity: r.propensity,
        outcomes: [r.reward, r.joules, r.costUsd, r.latencyMs],
      });
    }
    return { p, live, logged };
  }
}
