import { FNV_PRIME } from './hash.js';
import { pairKey, tokenize } from './tokens.js';

const { imul, sqrt } = Math;

/** FNV-1a seed of the character trigrams. */
export const TRIGRAM_SEED = 0x050c5d1f;

/**
 * Signed feature hashing (Weinberger et al., ICML 2009) of a text into `out[start, end)`: token unigrams (weight
 * 1), bigrams of consecutive tokens (0.7) and character trigrams (0.5), tokens as tokens.ts cuts them (words; each
 * Han or kana character on its own). The bucket is the 32-bit hash modulo the block size, the sign its top bit. The
 * block is then scaled to L2 norm `weight` (left at 0 for an empty text). Linear in the text; allocates one
 * closure. The trigram hash is `fnv1a(text, i − 2, i + 1, TRIGRAM_SEED)`, computed inline, and every bucket in
 * small-integer arithmetic (a hash above 2³¹ is not a small integer: `h % buckets` on it is a floating-point
 * remainder, which was a third of the featurizer's time).
 */
export function hashNgrams(text: string, out: Float64Array, start: number, end: number, weight: number): void {
  const buckets = end - start;
  if (buckets <= 0) return;
  let previous = -1;
  tokenize(text, (_s, _e, h) => {
    addHashed(out, start, buckets, h | 0, 1);
    if (previous >= 0) addHashed(out, start, buckets, pairKey(previous, h) | 0, 0.7);
    previous = h;
  });
  const n = text.length;
  if (n >= 3) {
    let c0 = text.charCodeAt(0);
    let c1 = text.charCodeAt(1);
    for (let i = 2; i < n; i++) {
      const c2 = text.charCodeAt(i);
      addHashed(out, start, buckets, imul(imul(imul(TRIGRAM_SEED ^ c0, FNV_PRIME) ^ c1, FNV_PRIME) ^ c2, FNV_PRIME), 0.5);
      c0 = c1;
      c1 = c2;
    }
  }
  let norm = 0;
  for (let i = start; i < end; i++) norm += out[i] * out[i];
  if (norm === 0) return;
  const k = weight / sqrt(norm);
  for (let i = start; i < end; i++) out[i] *= k;
}

/**
 * Adds ±w at bucket (h mod buckets) of a 32-bit hash given as a signed integer `h` (its unsigned value is h >>> 0):
 * the remainder from the two 16-bit halves, (hi mod m · 2¹⁶ + lo) mod m, exact for m < 2¹⁶; negative when the top
 * bit is set.
 */
function addHashed(out: Float64Array, start: number, buckets: number, h: number, w: number): void {
  const bucket = (((h >>> 16) % buckets) * 65536 + (h & 0xffff)) % buckets;
  out[start + bucket] += h < 0 ? -w : w;
}
