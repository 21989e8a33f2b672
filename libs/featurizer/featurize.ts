import { hashNgrams } from './hashed.js';
import { FIXED_FEATURES, writeFixedSlots } from './slots.js';
import { tallyText, TextTally } from './tally.js';
import { FEATURIZE_HEAD_CHARS, FEATURIZE_TAIL_CHARS, joinedView, textView } from './window.js';

const { sqrt } = Math;

export { FIXED_FEATURES };

/** Smallest `dim`: the fixed slots and at least 7 hashed ones (32, the least a builtin policy may ask for). */
export const MIN_DIM = 32;

/**
 * Version of the text → vector map. It changes whenever some text's vector changes, so statistics learnt and fits
 * made (fitted.ts) under another version are known not to apply. 1: bias, 8 surface statistics, 8 regex cues,
 * hashing; 2: the fixed slots of slots.ts, hashing at {@link HASHED_WEIGHT}.
 */
export const FEATURIZER_VERSION = 2;

/**
 * L2 norm of the hashed block before the whole vector is normalised, against the fixed slots' scale (bias 1, each
 * informative slot up to 1; a typical prompt's fixed part has norm about 1.7). The hashed n-grams tell prompts apart
 * but mostly not kinds of prompt, and LinUCB explores every direction of `x` in proportion to its length: a block of
 * norm w adds up to about α·w/1.7 to an arm's bonus for lexical novelty alone. At 0.1 that is at most 0.03 at α = ½,
 * below the usual quality gap between models, so exploration is driven by the fixed slots; the block is still learnt
 * once an arm has some 10⁴ pulls (each bucket's share of ‖x‖², about 10⁻⁴, times the pulls passes the ridge λ = 1).
 */
export const HASHED_WEIGHT = 0.1;

const TALLY = new TextTally();

/**
 * The fixed slots (slots.ts) of `input`, unnormalised, into `out[0, FIXED_FEATURES)`. Reads the bounded view of
 * the text (window.ts) like {@link featurize}. Also returns the lower-cased view, which the hashed block reads.
 */
export function fixedFeatures(input: string, out: Float64Array): string {
  const text = textView(input, FEATURIZE_HEAD_CHARS, FEATURIZE_TAIL_CHARS).toLowerCase();
  writeFixedSlots(tallyText(text, TALLY), out);
  return text;
}

/** Scales `out` to unit L2 norm (it always has the bias, so the norm is never 0). */
export function normalize(out: Float64Array): Float64Array {
  let norm = 0;
  for (let i = 0; i < out.length; i++) norm += out[i] * out[i];
  const k = 1 / sqrt(norm);
  for (let i = 0; i < out.length; i++) out[i] *= k;
  return out;
}

/**
 * Deterministic text → context vector of length `dim` (default 64), the same on every replica:
 *
 * - slots 0…{@link FIXED_FEATURES}−1: the fixed slots (slots.ts): bias 1, then what kind of prompt it is (length,
 *   script shares, code and which kind, maths, multiple choice and exam layout, subject vocabulary, task), each in
 *   [0, 1];
 * - the rest: signed feature hashing of tokens, token bigrams and character trigrams (hashed.ts), scaled to norm
 *   {@link HASHED_WEIGHT}.
 *
 * The whole vector is then scaled to unit norm, so an untried LinUCB arm's index is α/√λ_reg exactly.
 * `out` may be passed to avoid allocation.
 *
 * Bounded cost: only the first {@link FEATURIZE_HEAD_CHARS} and last {@link FEATURIZE_TAIL_CHARS} characters
 * are read (window.ts `textView`: joined by a '\n'); every statistic, including the length, is that view's, so a
 * text of any size costs at most what a 32 KB one does, and texts up to 32 KB are read whole. A fixed number of
 * linear passes over the view, no regular expression.
 */
export function featurize(input: string, dim = 64, out: Float64Array = new Float64Array(dim)): Float64Array {
  if (dim < MIN_DIM) throw new RangeError(`dim must be at least ${MIN_DIM}`);
  out.fill(0);
  const text = fixedFeatures(input, out);
  hashNgrams(text, out, FIXED_FEATURES, dim, HASHED_WEIGHT);
  return normalize(out);
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
