import { CH, charClass, isWordClass } from './char-class.js';
import { fnv1a, FNV_OFFSET, FNV_PRIME } from './hash.js';
import { HashTable32 } from './hash-table.js';
import { LEXICON, SIGNALS, signalBit } from './lexicon.js';
import { pairKey } from './tokens.js';

const { imul, min } = Math;

/**
 * lexicon.ts compiled into hash lookups, once at load: token → mask of signals (bit i: SIGNALS[i]). A lookup reads
 * a word's characters at most twice (its hash comes from the tokenizer; its stems are hashed once, up to
 * {@link STEM_MAX} characters), so matching the vocabulary is linear in the text and allocates nothing. Matching is
 * by 32-bit hash: a word outside the lexicon matches with probability about 10⁻⁶ per lookup, the same way on every
 * replica.
 */
const WORD_MAP = new Map<number, number>();
const STEM_MAP = new Map<number, number>();
const PHRASE_MAP = new Map<number, number>();
const IDEOGRAPH_PAIR_MAP = new Map<number, number>();

export type EntryKind = 'word' | 'stem' | 'phrase' | 'ideographs';

const isWord = (s: string) => s.length > 0 && [...s].every((ch) => isWordClass(charClass(ch.charCodeAt(0))));
const isIdeographs = (s: string) => s.length === 2 && [...s].every((ch) => charClass(ch.charCodeAt(0)) === CH.IDEOGRAPH);
const wordHash = (s: string) => fnv1a(s, 0, s.length);

/** Shortest and longest stem (lexicon.ts `stem*`). */
export const STEM_MIN = 4;
export const STEM_MAX = 12;

/** What kind of entry a lexicon token is; throws on a malformed one (so a bad edit fails at load and in tests). */
export function entryKind(entry: string): EntryKind {
  if (entry.endsWith('*') && isWord(entry.slice(0, -1)) && entry.length - 1 >= STEM_MIN && entry.length - 1 <= STEM_MAX) return 'stem';
  const parts = entry.split('+');
  if (parts.length === 2 && parts.every(isWord)) return 'phrase';
  if (isIdeographs(entry)) return 'ideographs';
  if (isWord(entry) && charClass(entry.charCodeAt(0)) !== CH.IDEOGRAPH) return 'word';
  throw new Error(`lexicon: malformed entry "${entry}"`);
}

/** The entries of a lexicon list (lexicon.ts notation). */
export const lexiconEntries = (list: string): string[] => list.split(/\s+/).filter(Boolean);

function add(map: Map<number, number>, key: number, bit: number): void {
  map.set(key, (map.get(key) ?? 0) | bit);
}

for (const signal of SIGNALS) {
  const bit = signalBit(signal);
  for (const entry of lexiconEntries(LEXICON[signal])) {
    const kind = entryKind(entry);
    switch (kind) {
      case 'word':
        add(WORD_MAP, wordHash(entry), bit);
        break;
      case 'stem':
        add(STEM_MAP, wordHash(entry.slice(0, -1)), bit);
        break;
      case 'phrase': {
        const [a, b] = entry.split('+');
        add(PHRASE_MAP, pairKey(wordHash(a), wordHash(b)), bit);
        break;
      }
      case 'ideographs':
        add(IDEOGRAPH_PAIR_MAP, entry.charCodeAt(0) * 0x10000 + entry.charCodeAt(1), bit);
        break;
    }
  }
}

const WORDS = new HashTable32(WORD_MAP);
const STEMS = new HashTable32(STEM_MAP);
const PHRASES = new HashTable32(PHRASE_MAP);
const IDEOGRAPH_PAIRS = new HashTable32(IDEOGRAPH_PAIR_MAP);

/** Signals of the word `text[start, end)` whose hash is `hash`: its own entry's and those of its stems. */
export function wordSignals(text: string, start: number, end: number, hash: number): number {
  let mask = WORDS.get(hash);
  const last = min(end, start + STEM_MAX);
  let h = FNV_OFFSET;
  for (let i = start; i < last; i++) {
    h = imul(h ^ text.charCodeAt(i), FNV_PRIME);
    if (i + 1 - start >= STEM_MIN) mask |= STEMS.get(h);
  }
  return mask;
}

/** Signals of the phrase "previous word, this word" (by their hashes). */
export const phraseSignals = (previous: number, hash: number): number => PHRASES.get(pairKey(previous, hash));

/** Signals of two ideographs in a row (their UTF-16 codes). */
export const ideographPairSignals = (first: number, second: number): number => IDEOGRAPH_PAIRS.get(first * 0x10000 + second);

const ARTICLES = new HashTable32(new Map(['a', 'an', 'the'].map((w) => [wordHash(w), 1])));
/** Articles are skipped between the two words of a phrase. */
export const isArticle = (hash: number): boolean => ARTICLES.get(hash) === 1;
