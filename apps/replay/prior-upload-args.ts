import { DEFAULT_PRIOR_WEIGHT, MAX_PRIOR_RECORDS, MAX_PRIOR_WEIGHT } from '@app/contracts';
import { DEFAULT_PRIOR_CHUNK_BYTES } from './upload-prior.js';

export interface PriorUploadArgs {
  url: string;
  adminKey?: string;
  policy: string;
  data: string;
  maxWeight: number;
  chunkRecords: number;
  chunkBytes: number;
}

export const PRIOR_UPLOAD_USAGE = `usage: npm run prior:upload -- --url URL --admin-key KEY --policy NAME --data FILE.jsonl
         [--max-weight W] [--chunk-records N] [--chunk-bytes B]
Fits the warm-start prior of a live policy on every (prompt, model, score) of a per-prompt JSONL file (the replay
data schema): POST /admin/policies/NAME/prior in chunks, the first replacing the policy's prior uploads, the others
appending. Models that are not arms of the policy are skipped. --admin-key defaults to $ADMIN_API_KEY;
--max-weight (default ${DEFAULT_PRIOR_WEIGHT}, at most ${MAX_PRIOR_WEIGHT}); a chunk has at most --chunk-records
records (default and at most ${MAX_PRIOR_RECORDS}) and --chunk-bytes bytes of JSON (default ${DEFAULT_PRIOR_CHUNK_BYTES},
under the service's BODY_LIMIT_BYTES).`;

export class PriorUploadUsageError extends Error {}

export function parsePriorUploadArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): PriorUploadArgs {
  const flags = new Map<string, string>();
  const known = ['--url', '--admin-key', '--policy', '--data', '--max-weight', '--chunk-records', '--chunk-bytes'];
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--help' || k === '-h') throw new PriorUploadUsageError('');
    if (!known.includes(k)) throw new PriorUploadUsageError(k.startsWith('--') ? `unknown flag ${k}` : `unexpected argument "${k}"`);
    if (v === undefined || v.startsWith('--')) throw new PriorUploadUsageError(`${k} needs a value`);
    flags.set(k, v);
  }
  const required = (k: string) => {
    const v = flags.get(k);
    if (!v) throw new PriorUploadUsageError(`${k} is required`);
    return v;
  };
  const number = (k: string, dflt: number, ok: (n: number) => boolean, what: string) => {
    const v = flags.get(k);
    const n = v === undefined ? dflt : Number(v);
    if (!ok(n)) throw new PriorUploadUsageError(`${k} must be ${what}`);
    return n;
  };
  const url = required('--url');
  if (!URL.canParse(url)) throw new PriorUploadUsageError(`--url: "${url}" is not a URL`);
  return {
    url,
    adminKey: flags.get('--admin-key') ?? env.ADMIN_API_KEY,
    policy: required('--policy'),
    data: required('--data'),
    maxWeight: number('--max-weight', DEFAULT_PRIOR_WEIGHT, (n) => n > 0 && n <= MAX_PRIOR_WEIGHT, `a number with 0 < W ≤ ${MAX_PRIOR_WEIGHT}`),
    chunkRecords: number(
      '--chunk-records',
      MAX_PRIOR_RECORDS,
      (n) => Number.isInteger(n) && n >= 1 && n <= MAX_PRIOR_RECORDS,
      `an integer in 1…${MAX_PRIOR_RECORDS}`,
    ),
    chunkBytes: number('--chunk-bytes', DEFAULT_PRIOR_CHUNK_BYTES, (n) => Number.isInteger(n) && n >= 1024, 'an integer ≥ 1024'),
  };
}
