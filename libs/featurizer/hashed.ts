import { fnv1a } from './hash.js';
import { pairKey, tokenize } from './tokens.js';

const { sqrt } = Math;

/**
 * Signed feature hashing (Weinberger et al., ICML 2009) of a text into `out[start, end)`: token unigrams (weight
 * 1), bigrams of consecutive tokens (0.7) and character trigrams (0.5), tokens as tokens.ts cuts them (words; each
 * Han or kana character on its own). The bucket is the hash modulo the block size, the sign its top bit. The block
 * is then scaled to L2 norm `weight` (left at 0 for an empty text). Linear in the text; allocates one closure.
 */
export function hashNgrams(text: string, out: Float64Array, start: number, end: number, weight: number): void {
  const buckets = end - start;
  if (buckets <= 0) return;
  const add = (h: number, w: number): void => {
    out[start + (h % buckets)] += h >= 0x80000000 ? -w : w;
  };
  let previous = -1;
  tokenize(text, (_s, _e, h) => {
    add(h, 1);
    if (previous >= 0) add(pairKey(previous, h), 0.7);
    previous = h;
  });
  for (let i = 2; i < text.length; i++) add(fnv1a(text, i - 2, i + 1, 0x050c5d1f), 0.5);
  let norm = 0;
  for (let i = start; i < end; i++) norm += out[i] * out[i];
  if (norm === 0) return;
  const k = weight / sqrt(norm);
  for (let i = start; i < end; i++) out[i] *= k;
}
