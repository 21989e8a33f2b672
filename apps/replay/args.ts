import { type ObjectiveWeights, POLICY_ALGORITHMS, type PolicyAlgorithm } from '@app/bandits';
import { type Budget, DEFAULT_PRIOR_WEIGHT, MAX_PRIOR_WEIGHT } from '@app/contracts';

export interface ReplayArgs {
  data: string;
  models?: string[];
  algorithms: PolicyAlgorithm[];
  objectives: ObjectiveWeights[];
  params: Record<string, number>;
  seeds: number;
  delay: number;
  limit?: number;
  json?: string;
  svg?: string;
  viaHttp?: string;
  adminKey?: string;
  dim: number;
  /** Warm start: fit the prior on every outcome of this per-prompt file. */
  priorData?: string;
  /** Warm start: fit the prior on this fraction of --data's records (by id hash), replay the others. */
  priorSplit?: number;
  /** The prior's maxWeight (pseudo-observations per arm at most). */
  priorWeight: number;
  /** Mean spend per request every row's policy paces to. */
  budget?: Budget;
  /** Cascade mode (response-level files): how the first model is picked and escalations decided. */
  cascade?: CascadeMode;
  /** Model calls per prompt at most in cascade mode. */
  cascadeSteps: number;
}

/** `routed`/`cheapest`: first model routed or the cheapest, learned escalation; `check`: cheapest, hand-written check. */
export const CASCADE_MODES = ['routed', 'cheapest', 'check'] as const;
export type CascadeMode = (typeof CASCADE_MODES)[number];

export const USAGE = `usage: npm run replay -- --data FILE.jsonl [--models m1,m2,…]
         --algorithm linucb|lin-ts|beta-ts|fgts-cdb|ti-ucb|epsilon-greedy|random (comma-separated for several)
         [--objective quality=1,cost=0.2,energy=0,latency=0] (repeat for several settings)
         [--sweep cost=0,0.5,1,2] (one setting per value, other weights from --objective)
         [--params alpha=0.5,ridge=1,epsilon=0.02] [--seeds 5] [--delay 0] [--limit N] [--dim 64]
         [--json OUT.json] [--svg OUT.svg] [--via-http URL --admin-key KEY]
         [--prior-data FILE.jsonl | --prior-split F] [--prior-weight W]
         [--budget cost=USD] [--budget energy=J] (mean spend per request the policy paces to; params budgetGain=k, budgetStartGain=k)
         [--cascade routed|cheapest|check] [--cascade-steps 2]
DATA: a path, or a file name looked up in REPLAY_DATA_DIR (default ../shared/data): a per-prompt file (models.json
and energy_profiles.json are read beside it), or a *_pairwise.jsonl file (duels; its per-prompt file must be beside it).
The data files are not part of this repository.
Warm start (per-prompt files): --prior-data fits the policy's prior on every (prompt, model, score) of FILE for the
replayed models, as POST /admin/policies/{name}/prior fits it; --prior-split F (0 < F < 1) fits it on the records
of --data whose id hashes below F and replays only the others. --prior-weight: the prior's maxWeight (default
${DEFAULT_PRIOR_WEIGHT}, at most ${MAX_PRIOR_WEIGHT}).
Cascade (response-level files, e.g. cascade_gsm8k_mtbench.jsonl): the first model (routed by the policy, or the
cheapest) answers; while fewer than --cascade-steps models were called, the escalation policy decides from the stored
answer's signals whether the policy's pick among dearer models is called too (check: the hand-written GSM8K check
instead). Params audit=ρ (default 0.05), escalationV, escalationEpsilon, escalationRidge. The JSON adds per-model
call shares and the escalation rate; the warm start also warm-starts the escalation policy.`;

export class UsageError extends Error {}

const WEIGHTS = ['quality', 'energy', 'cost', 'latency'] as const;

function parsePairs(s: string, flag: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of s.split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    const n = Number(v);
    if (!k || v === undefined || !Number.isFinite(n)) throw new UsageError(`${flag}: "${part}" is not key=number`);
    out[k.trim()] = n;
  }
  return out;
}

function objectiveOf(pairs: Record<string, number>, flag: string): ObjectiveWeights {
  const o: ObjectiveWeights = { quality: 1, energy: 0, cost: 0, latency: 0 };
  for (const [k, v] of Object.entries(pairs)) {
    if (!(WEIGHTS as readonly string[]).includes(k)) throw new UsageError(`${flag}: unknown weight "${k}" (quality, energy, cost, latency)`);
    if (v < 0) throw new UsageError(`${flag}: ${k} must be ≥ 0`);
    o[k as keyof ObjectiveWeights] = v;
  }
  return o;
}

const KNOWN_FLAGS = [
  '--data',
  '--models',
  '--algorithm',
  '--objective',
  '--sweep',
  '--params',
  '--seeds',
  '--delay',
  '--limit',
  '--json',
  '--svg',
  '--via-http',
  '--admin-key',
  '--dim',
  '--prior-data',
  '--prior-split',
  '--prior-weight',
  '--budget',
  '--cascade',
  '--cascade-steps',
];

/** `--flag value` pairs, each flag's values in order (a flag may repeat); unknown flags and missing values refused. */
function flagValues(argv: readonly string[]): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') throw new UsageError('');
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"`);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
    flags.set(a, [...(flags.get(a) ?? []), v]);
    i++;
  }
  for (const k of flags.keys()) if (!KNOWN_FLAGS.includes(k)) throw new UsageError(`unknown flag ${k}`);
  return flags;
}

/** `--objective` (repeatable) crossed with `--sweep weight=v1,v2,…`; default quality only. */
function objectivesOf(objectiveFlags: readonly string[], sweep: string | undefined): ObjectiveWeights[] {
  let objectives = objectiveFlags.map((s) => objectiveOf(parsePairs(s, '--objective'), '--objective'));
  if (objectives.length === 0) objectives = [{ quality: 1, energy: 0, cost: 0, latency: 0 }];
  if (!sweep) return objectives;
  const [key, values] = sweep.split('=');
  if (!(WEIGHTS as readonly string[]).includes(key) || !values) throw new UsageError('--sweep: give weight=v1,v2,… (e.g. cost=0,0.5,1)');
  const vs = values.split(',').map(Number);
  if (vs.some((v) => !Number.isFinite(v) || v < 0)) throw new UsageError('--sweep: values must be numbers ≥ 0');
  return objectives.flatMap((o) => vs.map((v) => ({ ...o, [key]: v })));
}

/** `--cascade MODE`: checked against the modes and the flags it cannot go with. */
function cascadeOf(cascade: string | undefined, viaHttp: string | undefined, svg: string | undefined): Pick<ReplayArgs, 'cascade'> {
  if (cascade === undefined) return {};
  if (!(CASCADE_MODES as readonly string[]).includes(cascade)) throw new UsageError(`--cascade: unknown "${cascade}" (${CASCADE_MODES.join(', ')})`);
  if (viaHttp !== undefined) throw new UsageError('--cascade replays in process: no --via-http');
  if (svg !== undefined) throw new UsageError('--cascade writes no --svg (see --json)');
  return { cascade: cascade as CascadeMode };
}

export function parseArgs(argv: readonly string[]): ReplayArgs {
  const flags = flagValues(argv);
  const one = (k: string) => flags.get(k)?.at(-1);
  const int = (k: string, dflt: number, min: number) => {
    const v = one(k);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${k} must be an integer ≥ ${min}`);
    return n;
  };
  const data = one('--data');
  if (!data) throw new UsageError('--data is required');
  const algos = (one('--algorithm') ?? '').split(',').filter(Boolean);
  if (algos.length === 0) throw new UsageError('--algorithm is required');
  for (const a of algos)
    if (!(POLICY_ALGORITHMS as readonly string[]).includes(a)) throw new UsageError(`--algorithm: unknown "${a}" (${POLICY_ALGORITHMS.join(', ')})`);
  const limit = one('--limit');
  return {
    data,
    models: one('--models')?.split(',').filter(Boolean),
    algorithms: algos as PolicyAlgorithm[],
    objectives: objectivesOf(flags.get('--objective') ?? [], one('--sweep')),
    params: parsePairs(one('--params') ?? '', '--params'),
    seeds: int('--seeds', 5, 1),
    delay: int('--delay', 0, 0),
    limit: limit === undefined ? undefined : int('--limit', 0, 1),
    json: one('--json'),
    svg: one('--svg'),
    viaHttp: one('--via-http'),
    adminKey: one('--admin-key'),
    dim: int('--dim', 64, 32),
    ...parsePrior(one('--prior-data'), one('--prior-split'), one('--prior-weight')),
    ...budgetOf(flags.get('--budget') ?? []),
    ...cascadeOf(one('--cascade'), one('--via-http'), one('--svg')),
    cascadeSteps: int('--cascade-steps', 2, 2),
  };
}

/** `--budget cost=USD` and/or `--budget energy=J` (repeatable, or comma-separated in one flag). */
function budgetOf(values: readonly string[]): Pick<ReplayArgs, 'budget'> {
  if (values.length === 0) return {};
  const budget: Budget = {};
  for (const [k, v] of Object.entries(parsePairs(values.join(','), '--budget'))) {
    if (!(v > 0)) throw new UsageError(`--budget: ${k} must be > 0`);
    if (k === 'cost') budget.costUsdPerRequest = v;
    else if (k === 'energy') budget.energyJoulesPerRequest = v;
    else throw new UsageError(`--budget: unknown "${k}" (cost=USD per request, energy=J per request)`);
  }
  return { budget };
}

function parsePrior(
  data: string | undefined,
  split: string | undefined,
  weight: string | undefined,
): Pick<ReplayArgs, 'priorData' | 'priorSplit' | 'priorWeight'> {
  if (data !== undefined && split !== undefined) throw new UsageError('--prior-data and --prior-split cannot be combined');
  if (weight !== undefined && data === undefined && split === undefined) throw new UsageError('--prior-weight needs --prior-data or --prior-split');
  const f = split === undefined ? undefined : Number(split);
  if (f !== undefined && !(f > 0 && f < 1)) throw new UsageError('--prior-split must be a number with 0 < F < 1');
  const w = weight === undefined ? DEFAULT_PRIOR_WEIGHT : Number(weight);
  if (!(w > 0 && w <= MAX_PRIOR_WEIGHT)) throw new UsageError(`--prior-weight must be a number with 0 < W ≤ ${MAX_PRIOR_WEIGHT}`);
  return { priorData: data, priorSplit: f, priorWeight: w };
}
