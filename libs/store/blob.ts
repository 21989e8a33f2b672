import { endianness } from 'node:os';

if (endianness() !== 'LE') throw new Error('the Redis state blobs are little-endian float64; this host is big-endian');

/** Float64Array → little-endian bytes (a copy-free view on LE hosts). */
export const toBlob = (v: Float64Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** Little-endian bytes → a fresh Float64Array (copied so the result is 8-byte aligned). */
export function fromBlob(b: Buffer): Float64Array {
  const out = new Float64Array(b.length / 8);
  Buffer.from(out.buffer).set(b);
  return out;
}
