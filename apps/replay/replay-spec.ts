import { type ObjectiveWeights, type PolicyAlgorithm } from '@app/bandits';
import { type ReplaySpec, type WarmStart } from '@app/replay';
import { type ReplayArgs } from './args.js';

/**
 * The routing policy's part of one replay run from the command line: the algorithm and objective of this row, the
 * parameters, delay, limit and budget given, and a warm start's prior with the prompts its budget price starts from.
 */
export function replaySpec(args: ReplayArgs, algorithm: PolicyAlgorithm, objective: ObjectiveWeights, warm: WarmStart | undefined): ReplaySpec {
  return {
    algorithm,
    objective,
    params: args.params,
    delay: args.delay,
    limit: args.limit,
    prior: warm?.prior,
    budget: args.budget,
    budgetGain: args.params.budgetGain,
    budgetStartGain: args.params.budgetStartGain,
    budgetStartContexts: warm?.contexts,
  };
}
