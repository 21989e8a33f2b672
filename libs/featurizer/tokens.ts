import { CH, charClass, isWordClass } from './char-class.js';
import { FNV_OFFSET, FNV_PRIME } from './hash.js';

const { imul } = Math;

/** Receives the tokens of a text in order. */
export type TokenSink = (start: number, end: number, hash: number) => void;

/**
 * The tokens of a (lower-cased) text, in one linear pass: maximal runs of word characters (char-class.ts: digits,
 * underscore, marks, and letters of the scripts written with spaces), and every Han ideograph or kana on its own
 * (those scripts put no spaces between words, so a character is the unit; a pair of them, the next unit up, is what
 * the bigrams and the vocabulary's ideograph pairs read). Everything else separates tokens. `hash` is the token's
 * FNV-1a hash (hash.ts `fnv1a(text, start, end)`), computed on the way.
 */
export function tokenize(text: string, sink: TokenSink): void {
  const n = text.length;
  let start = -1;
  let h = FNV_OFFSET;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const cls = charClass(c);
    if (isWordClass(cls)) {
      if (start < 0) {
        start = i;
        h = FNV_OFFSET;
      }
      h = imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (start >= 0) {
      sink(start, i, h >>> 0);
      start = -1;
    }
    if (cls === CH.IDEOGRAPH) sink(i, i + 1, imul(FNV_OFFSET ^ c, FNV_PRIME) >>> 0);
  }
  if (start >= 0) sink(start, n, h >>> 0);
}

/** Key of the token pair (a, b), order-sensitive: the hashed bigrams and the vocabulary's phrases. */
export const pairKey = (a: number, b: number): number => (imul(a ^ 0x9e3779b9, FNV_PRIME) ^ b) >>> 0;
