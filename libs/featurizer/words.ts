import { CH, charClass } from './char-class.js';
import { SIGNALS } from './lexicon.js';
import { tokenize } from './tokens.js';
import { ideographPairSignals, isArticle, phraseSignals, wordSignals } from './vocabulary.js';

/** The tokens of a text: how many, how many are numbers, and the vocabulary's evidence for each signal. */
export interface WordTally {
  tokens: number;
  /** Tokens starting with a digit. */
  numbers: number;
  /** Per lexicon.ts SIGNALS: tokens (words, phrases, ideograph pairs) that are evidence of it. */
  readonly signals: Int32Array;
}

/**
 * Counts the tokens of `text` (tokens.ts) and matches them against the vocabulary (vocabulary.ts): each word by
 * itself and by its stems, each word with the previous one (articles skipped) as a phrase, each ideograph with the
 * ideograph right before it. A token adds at most one to a signal. One pass; allocates one closure.
 */
export function tallyWords(text: string, t: WordTally): void {
  const signals = t.signals;
  signals.fill(0);
  let tokens = 0;
  let numbers = 0;
  let previous = 0; // hash of the previous word that is not an article (0: none, or an ideograph came between)
  let ideographEnd = -1; // end of the previous token if it was an ideograph
  let ideograph = 0;
  tokenize(text, (start, end, hash) => {
    tokens++;
    const c = text.charCodeAt(start);
    const cls = charClass(c);
    let mask: number;
    if (cls === CH.IDEOGRAPH) {
      mask = ideographEnd === start ? ideographPairSignals(ideograph, c) : 0;
      ideographEnd = end;
      ideograph = c;
      previous = 0;
    } else {
      if (cls === CH.DIGIT) numbers++;
      mask = wordSignals(text, start, end, hash) | (previous !== 0 ? phraseSignals(previous, hash) : 0);
      if (!isArticle(hash)) previous = hash;
      ideographEnd = -1;
    }
    for (let b = 0; mask !== 0; b++, mask >>>= 1) if (mask & 1) signals[b]++;
  });
  t.tokens = tokens;
  t.numbers = numbers;
}

/** A fresh signal counter array for a {@link WordTally}. */
export const newSignalCounts = (): Int32Array => new Int32Array(SIGNALS.length);
