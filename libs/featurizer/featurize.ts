import { CUES } from './cues.js';
import { fnv1a } from './hash.js';
import { FEATURIZE_HEAD_CHARS, FEATURIZE_TAIL_CHARS, joinedView, textView } from './window.js';

const { imul, log1p, max, min, sqrt } = Math;

/** Number of fixed (non-hashed) slots: bias, 8 surface statistics, the task cues. */
export const FIXED_FEATURES = 1 + 8 + CUES.length;
export const MIN_DIM = FIXED_FEATURES + 8;

/**
 * Deterministic text → context vector of length `dim` (default 64), the same on every replica:
 *
 * - slot 0: bias 1;
 * - 8 surface statistics squashed into [0, 1]: log length, log word count, mean word length, digit, upper-case,
 *   punctuation and non-ASCII-letter shares, line count;
 * - one {0,1} cue per task kind (cues.ts);
 * - the rest: signed feature hashing (Weinberger et al., ICML 2009) of word unigrams, word bigrams and character
 *   trigrams, L2-normalised within the block.
 *
 * The whole vector is then scaled to unit norm, so an untried LinUCB arm's index is α/√λ_reg exactly.
 * `out` may be passed to avoid allocation.
 *
 * Bounded cost: only the first {@link FEATURIZE_HEAD_CHARS} and last {@link FEATURIZE_TAIL_CHARS} characters
 * are read (window.ts `textView`: joined by a '\n'); every statistic, including the length, is that view's, so a
 * text of any size costs at most what a 32 KB one does, and texts up to 32 KB are read whole. Linear in the view.
 */
export function featurize(input: string, dim = 64, out: Float64Array = new Float64Array(dim)): Float64Array {
  if (dim < MIN_DIM) throw new RangeError(`dim must be at least ${MIN_DIM}`);
  out.fill(0);
  const text = textView(input, FEATURIZE_HEAD_CHARS, FEATURIZE_TAIL_CHARS);
  const n = text.length;
  let digits = 0;
  let upper = 0;
  let punct = 0;
  let nonAscii = 0;
  let lines = 1;
  let words = 0;
  let wordChars = 0;
  const hashStart = FIXED_FEATURES;
  const buckets = dim - hashStart;
  let prevWord = 0;
  let wStart = -1;
  const lower = text.toLowerCase();

  const addHash = (h: number, w: number): void => {
    const idx = hashStart + (h % buckets);
    out[idx] += (h & 0x80000000) !== 0 ? -w : w;
  };
  const endWord = (i: number): void => {
    if (wStart < 0) return;
    const h = fnv1a(lower, wStart, i);
    addHash(h, 1);
    if (prevWord !== 0) addHash(imul(prevWord ^ 0x9e3779b9, 0x01000193) ^ h, 0.7);
    prevWord = h;
    words++;
    wordChars += i - wStart;
    wStart = -1;
  };

  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const isDigit = c >= 48 && c <= 57;
    const isLower = c >= 97 && c <= 122;
    const isUpper = c >= 65 && c <= 90;
    const isWordChar = isDigit || isLower || isUpper || c === 95 || c > 127;
    if (isDigit) digits++;
    else if (isUpper) upper++;
    else if (c > 127) nonAscii++;
    else if (c === 10) lines++;
    else if (!isLower && c !== 32 && c !== 9 && c !== 13) punct++;
    if (isWordChar) {
      if (wStart < 0) wStart = i;
    } else endWord(i);
    if (i >= 2) addHash(fnv1a(lower, i - 2, i + 1, 0x050c5d1f), 0.5);
  }
  endWord(n);

  const len = max(n, 1);
  out[0] = 1;
  out[1] = min(log1p(n) / 10, 1.5);
  out[2] = min(log1p(words) / 8, 1.5);
  out[3] = words > 0 ? min(wordChars / words / 10, 1.5) : 0;
  out[4] = digits / len;
  out[5] = upper / len;
  out[6] = punct / len;
  out[7] = nonAscii / len;
  out[8] = min(log1p(lines) / 5, 1.5);
  for (let k = 0; k < CUES.length; k++) out[9 + k] = CUES[k].re.test(lower) ? 1 : 0;

  let hashNorm = 0;
  for (let i = hashStart; i < dim; i++) hashNorm += out[i] * out[i];
  if (hashNorm > 0) {
    const k = 1 / sqrt(hashNorm);
    for (let i = hashStart; i < dim; i++) out[i] *= k;
  }
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += out[i] * out[i];
  const k = 1 / sqrt(norm);
  for (let i = 0; i < dim; i++) out[i] *= k;
  return out;
}

/**
 * Longest text {@link messagesText} returns: the longest `input` a route request takes (libs/contracts), so the
 * messages path never yields more text than the input path may. The proxy estimates prompt tokens from that
 * length when the upstream reports none; it is exact up to 1,000,000 characters of text.
 */
export const MESSAGES_TEXT_MAX_CHARS = 1_000_000;
const MESSAGES_HEAD = 500_000;
const MESSAGES_TAIL = MESSAGES_TEXT_MAX_CHARS - 1 - MESSAGES_HEAD;

/**
 * Text of a chat request: the message contents (string contents and the `text` of content parts) in order, one
 * per line. When that is longer than {@link MESSAGES_TEXT_MAX_CHARS}, only its first 500,000 and last 499,999
 * characters joined by a '\n' (window.ts `joinedView`): the whole join is never built, so 1000 messages of 1 MB
 * cost no 1 GB string. `featurize(messagesText(ms))` equals `featurize` of the whole join (views nest).
 */
export function messagesText(messages: readonly { role: string; content: unknown }[]): string {
  const pieces: string[] = [];
  const add = (t: string) => {
    if (pieces.length > 0 || t !== '') pieces.push(t); // leading empty contents add no line
  };
  for (const m of messages) {
    if (typeof m.content === 'string') add(m.content);
    else if (Array.isArray(m.content))
      for (const part of m.content)
        if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') add((part as { text: string }).text);
  }
  return joinedView(pieces, MESSAGES_HEAD, MESSAGES_TAIL);
}
