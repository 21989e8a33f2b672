import { type Policy } from '@app/contracts';
import { priorRecords, readJsonl, readSideInfo, type RawRecord } from '@app/replay';
import { parsePriorUploadArgs, PRIOR_UPLOAD_USAGE, PriorUploadUsageError } from './prior-upload-args.js';
import { uploadPrior } from './upload-prior.js';
import { client } from './via-http.js';

/** `npm run prior:upload`: a per-prompt data file → the warm-start prior of a live policy, in appending chunks. */
async function main(): Promise<void> {
  const args = parsePriorUploadArgs(process.argv.slice(2), process.env);
  if (!args.adminKey) throw new PriorUploadUsageError('--admin-key (or ADMIN_API_KEY) is required');
  const call = client(args.url, args.adminKey);
  const policy = await call<Policy>('GET', `/admin/policies/${encodeURIComponent(args.policy)}`);
  if (policy.features.source !== 'builtin') throw new PriorUploadUsageError(`policy ${args.policy} takes caller features; a data file has prompts only`);
  const raw = readJsonl<RawRecord>(args.data);
  const inData = new Set(raw.flatMap((r) => Object.keys(r.outcomes ?? {})));
  const arms = policy.arms.filter((a) => inData.has(a));
  const skipped = [...inData].filter((m) => !policy.arms.includes(m)).sort();
  const records = priorRecords(raw, arms, readSideInfo(args.data));
  console.log(`${args.data}: ${raw.length} records, ${records.length} outcomes for ${arms.length} of the policy's ${policy.arms.length} arms`);
  if (skipped.length > 0) console.log(`skipped (not arms of ${args.policy}): ${skipped.join(', ')}`);
  if (records.length === 0) throw new Error('nothing to upload');
  const after = await uploadPrior(call, args.policy, { records, maxWeight: args.maxWeight, maxRecords: args.chunkRecords, maxBytes: args.chunkBytes }, (c) =>
    console.log(`POST /admin/policies/${args.policy}/prior ${c.index + 1}/${c.of}: ${c.records} records${c.append ? ', append' : ''}`),
  );
  console.log(`prior of ${args.policy} (version ${after.version}): ${after.prior?.records ?? 0} records, maxWeight ${args.maxWeight}`);
  for (const [arm, p] of Object.entries(after.prior?.arms ?? {})) console.log(`  ${arm}: ${p.records} outcomes, weight ${p.weight}`);
}

main().catch((err: unknown) => {
  if (err instanceof PriorUploadUsageError) {
    if (err.message) process.stderr.write(`error: ${err.message}\n`);
    process.stderr.write(`${PRIOR_UPLOAD_USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`prior upload failed: ${(err as Error).message}\n`);
  process.exit(1);
});
