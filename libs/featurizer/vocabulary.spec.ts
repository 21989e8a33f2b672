import { CH, charClass, isLetterClass, isWordClass } from './char-class.js';
import { LEXICON, SIGNALS, type Signal } from './lexicon.js';
import { tokenize } from './tokens.js';
import { entryKind, lexiconEntries, STEM_MAX, STEM_MIN } from './vocabulary.js';
import { newSignalCounts, tallyWords } from './words.js';
import { fnv1a } from './hash.js';

/** The signals a text's tokens are evidence of (words.ts, which reads the vocabulary). */
function signalsOf(text: string): Signal[] {
  const t = { tokens: 0, numbers: 0, signals: newSignalCounts() };
  tallyWords(text, t);
  return SIGNALS.filter((_, i) => t.signals[i] > 0).sort();
}

describe('vocabulary', () => {
  it('every lexicon entry is well formed and written once, in one signal', () => {
    const seen = new Map<string, Signal>();
    const twice: string[] = [];
    for (const s of SIGNALS)
      for (const e of lexiconEntries(LEXICON[s])) {
        expect(() => entryKind(e)).not.toThrow();
        if (seen.has(e)) twice.push(`${e} (${seen.get(e)} and ${s})`);
        seen.set(e, s);
      }
    expect(twice).toEqual([]);
    expect(seen.size).toBeGreaterThan(600);
  });

  it('rejects malformed entries', () => {
    for (const bad of ['ab*', `${'x'.repeat(STEM_MAX + 1)}*`, 'a+b+c', '计算机', 'x-ray', '计']) expect(() => entryKind(bad)).toThrow(/malformed/);
    expect(STEM_MIN).toBe(4);
  });

  it('hashes a token as hash.ts does', () => {
    const text = 'the café 中文 x_1';
    const tokens: string[] = [];
    tokenize(text, (s, e, h) => {
      expect(h).toBe(fnv1a(text, s, e));
      tokens.push(text.slice(s, e));
    });
    expect(tokens).toEqual(['the', 'café', '中', '文', 'x_1']);
  });

  it('matches words, stems, phrases across articles, and ideograph pairs', () => {
    expect(signalsOf('biology')).toEqual(['medicine']);
    expect(signalsOf('biologists')).toEqual(['medicine']); // stem biolog*
    expect(signalsOf('bio')).toEqual([]); // shorter than the stem
    expect(signalsOf('write a function')).toEqual(['code-task']);
    expect(signalsOf('write the function')).toEqual(['code-task']);
    expect(signalsOf('write, then function')).toEqual([]);
    expect(signalsOf('how many')).toEqual(['quantity']);
    expect(signalsOf('细胞分裂')).toEqual(['medicine']);
    expect(signalsOf('细 胞')).toEqual([]); // not adjacent
    expect(signalsOf('translate this into german')).toEqual(['translation']);
  });

  it('classifies characters by script', () => {
    const cls = (ch: string) => charClass(ch.charCodeAt(0));
    expect([cls('a'), cls('é'), cls('ж'), cls('ب'), cls('α'), cls('한'), cls('中'), cls('カ')]).toEqual([
      CH.LATIN,
      CH.LATIN,
      CH.CYRILLIC,
      CH.ARABIC,
      CH.OTHER_LETTER,
      CH.HANGUL,
      CH.IDEOGRAPH,
      CH.IDEOGRAPH,
    ]);
    expect([cls('7'), cls('７'), cls('_'), cls(' '), cls('\n'), cls('\u3000'), cls('，'), cls('+'), cls('≤'), cls('😀')]).toEqual([
      CH.DIGIT,
      CH.DIGIT,
      CH.UNDERSCORE,
      CH.SPACE,
      CH.NEWLINE,
      CH.SPACE,
      CH.PUNCT,
      CH.OPERATOR,
      CH.OPERATOR,
      CH.OTHER,
    ]);
    expect(isWordClass(CH.HANGUL) && !isWordClass(CH.IDEOGRAPH) && isLetterClass(CH.IDEOGRAPH) && !isLetterClass(CH.DIGIT)).toBe(true);
  });
});
