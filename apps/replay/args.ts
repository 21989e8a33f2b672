import { type ObjectiveWeights, POLICY_ALGORITHMS, type PolicyAlgorithm } from '@app/bandits';

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
}

export const USAGE = `usage: npm run replay -- --data FILE.jsonl [--models m1,m2,…]
         --algorithm linucb|lin-ts|beta-ts|fgts-cdb|ti-ucb|epsilon-greedy|random (comma-separated for several)
         [--objective quality=1,cost=0.2,energy=0,latency=0] (repeat for several settings)
         [--sweep cost=0,0.5,1,2] (one setting per value, other weights from --objective)
         [--params alpha=0.5,ridge=1,epsilon=0.02] [--seeds 5] [--delay 0] [--limit N] [--dim 64]
         [--json OUT.json] [--svg OUT.svg] [--via-http URL --admin-key KEY]
DATA: a per-prompt file of ../shared/data (models.json and energy_profiles.json are read beside it), or a
*_pairwise.jsonl file (duels; its per-prompt file must be beside it).`;

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

export function parseArgs(argv: readonly string[]): ReplayArgs {
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
  const known = [
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
  ];
  for (const k of flags.keys()) if (!known.includes(k)) throw new UsageError(`unknown flag ${k}`);
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
  let objectives = (flags.get('--objective') ?? []).map((s) => objectiveOf(parsePairs(s, '--objective'), '--objective'));
  if (objectives.length === 0) objectives = [{ quality: 1, energy: 0, cost: 0, latency: 0 }];
  const sweep = one('--sweep');
  if (sweep) {
    const [key, values] = sweep.split('=');
    if (!(WEIGHTS as readonly string[]).includes(key) || !values) throw new UsageError('--sweep: give weight=v1,v2,… (e.g. cost=0,0.5,1)');
    const vs = values.split(',').map(Number);
    if (vs.some((v) => !Number.isFinite(v) || v < 0)) throw new UsageError('--sweep: values must be numbers ≥ 0');
    objectives = objectives.flatMap((o) => vs.map((v) => ({ ...o, [key]: v })));
  }
  const limit = one('--limit');
  return {
    data,
    models: one('--models')?.split(',').filter(Boolean),
    algorithms: algos as PolicyAlgorithm[],
    objectives,
    params: parsePairs(one('--params') ?? '', '--params'),
    seeds: int('--seeds', 5, 1),
    delay: int('--delay', 0, 0),
    limit: limit === undefined ? undefined : int('--limit', 0, 1),
    json: one('--json'),
    svg: one('--svg'),
    viaHttp: one('--via-http'),
    adminKey: one('--admin-key'),
    dim: int('--dim', 64, 32),
  };
}
