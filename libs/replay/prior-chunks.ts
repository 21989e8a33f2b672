/** Bytes of a prior request body's envelope around its records: `{"records":[…],"maxWeight":…,"append":true}`. */
const ENVELOPE_BYTES = 64;

/**
 * Splits records into consecutive chunks (order kept) of at most `maxRecords` records whose JSON request body stays
 * within `maxBytes`, so every chunk is one POST /admin/policies/{name}/prior under the record limit and the
 * service's body limit. Throws when a single record alone exceeds `maxBytes`.
 */
export function priorChunks<T>(records: readonly T[], maxRecords: number, maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = ENVELOPE_BYTES;
  records.forEach((r, i) => {
    const size = Buffer.byteLength(JSON.stringify(r), 'utf8') + 1; // and its comma
    if (ENVELOPE_BYTES + size > maxBytes) throw new Error(`record ${i} alone is ${size} bytes of JSON, over the ${maxBytes}-byte body limit`);
    if (chunk.length === maxRecords || bytes + size > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = ENVELOPE_BYTES;
    }
    chunk.push(r);
    bytes += size;
  });
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
