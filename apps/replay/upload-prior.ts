import { MAX_PRIOR_RECORDS, type Policy } from '@app/contracts';
import { priorChunks, type PriorScoreRecord } from '@app/replay';

/** A JSON call to the service (via-http.ts `client`). */
export type ApiCall = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/** Under the service's default body limit (BODY_LIMIT_BYTES, 1 MiB). */
export const DEFAULT_PRIOR_CHUNK_BYTES = 1_000_000;

export interface PriorUpload {
  records: readonly PriorScoreRecord[];
  maxWeight: number;
  /** Records per call (at most the endpoint's 10,000). */
  maxRecords?: number;
  /** JSON bytes per call. */
  maxBytes?: number;
}

export interface ChunkSent {
  index: number;
  of: number;
  records: number;
  append: boolean;
}

/**
 * Uploads a warm-start prior to a policy in chunks: the first call replaces the policy's prior uploads, every later
 * one appends (`append: true`), so the policy ends with the prior fitted on all the records, as one call would fit
 * it. Returns the policy after the last call.
 */
export async function uploadPrior(call: ApiCall, policy: string, upload: PriorUpload, sent?: (c: ChunkSent) => void): Promise<Policy> {
  // One prompt's records in one call: the service samples each call's distinct prompts (a budget's start price).
  const chunks = priorChunks(
    upload.records,
    Math.min(upload.maxRecords ?? MAX_PRIOR_RECORDS, MAX_PRIOR_RECORDS),
    upload.maxBytes ?? DEFAULT_PRIOR_CHUNK_BYTES,
    (r) => r.input,
  );
  if (chunks.length === 0) throw new Error(`no prior records to upload to ${policy}`);
  let last: Policy | undefined;
  for (const [index, records] of chunks.entries()) {
    const append = index > 0;
    last = await call<Policy>('POST', `/admin/policies/${encodeURIComponent(policy)}/prior`, { records, maxWeight: upload.maxWeight, append });
    sent?.({ index, of: chunks.length, records: records.length, append });
  }
  return last!;
}
