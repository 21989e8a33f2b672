/** Bytes of a prior request body's envelope around its records: `{"records":[…],"maxWeight":…,"append":true}`. */
const ENVELOPE_BYTES = 64;

/**
 * Splits records into consecutive chunks (order kept) of at most `maxRecords` records whose JSON request body stays
 * within `maxBytes`, so every chunk is one POST /admin/policies/{name}/prior under the record limit and the
 * service's body limit. With `keyOf`, consecutive records of the same key (one prompt's outcomes) stay in one chunk
 * unless they alone exceed a limit: the service samples each call's distinct prompts for a budget's start price, so
 * a prompt split over two calls would count twice. Throws when a single record alone exceeds `maxBytes`.
 */
export function priorChunks<T>(records: readonly T[], maxRecords: number, maxBytes: number, keyOf?: (r: T) => string): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = ENVELOPE_BYTES;
  // The current run of records with the same key, where a full chunk is cut instead of at the limit.
  let runStart = 0;
  records.forEach((r, i) => {
    const size = Buffer.byteLength(JSON.stringify(r), 'utf8') + 1; // and its comma
    if (ENVELOPE_BYTES + size > maxBytes) throw new Error(`record ${i} alone is ${size} bytes of JSON, over the ${maxBytes}-byte body limit`);
    if (keyOf && i > 0 && keyOf(r) !== keyOf(records[i - 1])) runStart = chunk.length;
    if (chunk.length === maxRecords || bytes + size > maxBytes) {
      const cut = keyOf && runStart > 0 ? runStart : chunk.length;
      chunks.push(chunk.slice(0, cut));
      chunk = chunk.slice(cut);
      bytes = ENVELOPE_BYTES + chunk.reduce((n, c) => n + Buffer.byteLength(JSON.stringify(c), 'utf8') + 1, 0);
      runStart = 0;
      if (chunk.length === maxRecords || bytes + size > maxBytes) {
        chunks.push(chunk);
        chunk = [];
        bytes = ENVELOPE_BYTES;
      }
    }
    chunk.push(r);
    bytes += size;
  });
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
