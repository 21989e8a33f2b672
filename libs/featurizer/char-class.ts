/**
 * What the featurizer needs to know of a character: whether it is part of a word, which script its letter belongs
 * to, whether it is a digit, a space, a line break, punctuation or a mathematical operator. One lookup table over
 * the Basic Multilingual Plane, built once at load from the Unicode block ranges below, so a class costs one array
 * read and is the same on every replica.
 *
 * Surrogates (astral characters: emoji, rare CJK extensions) are OTHER: neither letters nor word characters.
 */
export const CH = {
  OTHER: 0,
  SPACE: 1,
  NEWLINE: 2,
  /** Word characters: DIGIT through HANGUL. */
  DIGIT: 3,
  UNDERSCORE: 4,
  /** Combining and modifier marks: inside words, but not letters of a script. */
  MARK: 5,
  /** Letters: LATIN through IDEOGRAPH. */
  LATIN: 6,
  CYRILLIC: 7,
  ARABIC: 8,
  /** Greek, Hebrew, Armenian, Georgian, the Indic and South-East Asian scripts, Ethiopic, Yi… */
  OTHER_LETTER: 9,
  /** Hangul: written with spaces between words, so it forms words like the alphabets. */
  HANGUL: 10,
  /** Han ideographs and kana: written without spaces, so each one is a token of its own. */
  IDEOGRAPH: 11,
  PUNCT: 12,
  /** + - * / = ^ < > and the mathematical operator, arrow and fraction-slash blocks. */
  OPERATOR: 13,
} as const;
export type CharClass = (typeof CH)[keyof typeof CH];

const TABLE = new Uint8Array(0x10000);

function fill(from: number, to: number, cls: CharClass): void {
  TABLE.fill(cls, from, to + 1);
}
function each(chars: string, cls: CharClass): void {
  for (let i = 0; i < chars.length; i++) TABLE[chars.charCodeAt(i)] = cls;
}

// Later lines override earlier ones: broad blocks first, their exceptions after.
fill(0x21, 0x7e, CH.PUNCT);
fill(0x30, 0x39, CH.DIGIT);
fill(0x41, 0x5a, CH.LATIN);
fill(0x61, 0x7a, CH.LATIN);
each('_', CH.UNDERSCORE);
each('+-*/=^<>', CH.OPERATOR);
each('\t\v\f\r \u0085\u00a0\u1680\u2028\u2029\u202f\u205f\u3000', CH.SPACE);
fill(0x2000, 0x200a, CH.SPACE);
each('\n', CH.NEWLINE);
fill(0xa1, 0xbf, CH.PUNCT);
each('\u00aa\u00b5\u00ba', CH.LATIN);
each('\u00b2\u00b3\u00b9\u00bc\u00bd\u00be', CH.DIGIT);
each('\u00ac\u00b1', CH.OPERATOR);
fill(0xc0, 0x24f, CH.LATIN);
each('\u00d7\u00f7', CH.OPERATOR); // × ÷ inside the Latin-1 letters
fill(0x250, 0x2af, CH.LATIN);
fill(0x2b0, 0x36f, CH.MARK);
fill(0x370, 0x3ff, CH.OTHER_LETTER);
fill(0x400, 0x52f, CH.CYRILLIC);
fill(0x530, 0x5ff, CH.OTHER_LETTER);
fill(0x600, 0x6ff, CH.ARABIC);
each('\u060c\u061b\u061f\u066a\u066b\u066c\u066d\u06d4', CH.PUNCT);
fill(0x660, 0x669, CH.DIGIT);
fill(0x6f0, 0x6f9, CH.DIGIT);
fill(0x700, 0x74f, CH.OTHER_LETTER);
fill(0x750, 0x77f, CH.ARABIC);
fill(0x780, 0x86f, CH.OTHER_LETTER);
fill(0x870, 0x8ff, CH.ARABIC);
fill(0x900, 0x10ff, CH.OTHER_LETTER);
fill(0x1100, 0x11ff, CH.HANGUL);
fill(0x1200, 0x1fff, CH.OTHER_LETTER);
fill(0x1ab0, 0x1aff, CH.MARK);
fill(0x1c80, 0x1c8f, CH.CYRILLIC);
fill(0x1dc0, 0x1dff, CH.MARK);
fill(0x1e00, 0x1eff, CH.LATIN);
fill(0x2010, 0x206f, CH.PUNCT);
each('\u2028\u2029\u202f\u205f', CH.SPACE);
each('\u2044\u2212', CH.OPERATOR);
fill(0x2070, 0x209f, CH.DIGIT);
fill(0x20a0, 0x20cf, CH.PUNCT);
fill(0x20d0, 0x20ff, CH.MARK);
fill(0x2150, 0x218f, CH.DIGIT);
fill(0x2190, 0x22ff, CH.OPERATOR);
fill(0x27c0, 0x27ef, CH.OPERATOR);
fill(0x2980, 0x2aff, CH.OPERATOR);
fill(0x2c60, 0x2c7f, CH.LATIN);
fill(0x2de0, 0x2dff, CH.CYRILLIC);
fill(0x2e00, 0x2e7f, CH.PUNCT);
fill(0x2e80, 0x2fdf, CH.IDEOGRAPH);
fill(0x3001, 0x303f, CH.PUNCT);
each('\u3005\u3006\u3007', CH.IDEOGRAPH);
fill(0x3040, 0x30ff, CH.IDEOGRAPH);
each('\u30fb', CH.PUNCT);
fill(0x3100, 0x312f, CH.IDEOGRAPH);
fill(0x3130, 0x318f, CH.HANGUL);
fill(0x31a0, 0x31bf, CH.IDEOGRAPH);
fill(0x31f0, 0x31ff, CH.IDEOGRAPH);
fill(0x3400, 0x4dbf, CH.IDEOGRAPH);
fill(0x4e00, 0x9fff, CH.IDEOGRAPH);
fill(0xa000, 0xa4cf, CH.OTHER_LETTER);
fill(0xa640, 0xa69f, CH.CYRILLIC);
fill(0xa720, 0xa7ff, CH.LATIN);
fill(0xa960, 0xa97f, CH.HANGUL);
fill(0xac00, 0xd7ff, CH.HANGUL);
fill(0xd800, 0xdfff, CH.OTHER);
fill(0xf900, 0xfaff, CH.IDEOGRAPH);
fill(0xfb00, 0xfb06, CH.LATIN);
fill(0xfb1d, 0xfb4f, CH.OTHER_LETTER);
fill(0xfb50, 0xfdff, CH.ARABIC);
fill(0xfe00, 0xfe0f, CH.MARK);
fill(0xfe20, 0xfe2f, CH.MARK);
fill(0xfe30, 0xfe6f, CH.PUNCT);
fill(0xfe70, 0xfeff, CH.ARABIC);
fill(0xff01, 0xff65, CH.PUNCT);
fill(0xff10, 0xff19, CH.DIGIT);
fill(0xff21, 0xff3a, CH.LATIN);
fill(0xff41, 0xff5a, CH.LATIN);
each('\uff0b\uff0d\uff0f\uff1c\uff1d\uff1e\uff3e', CH.OPERATOR);
each('\uff3f', CH.UNDERSCORE);
fill(0xff66, 0xff9f, CH.IDEOGRAPH);
fill(0xffa0, 0xffdc, CH.HANGUL);

/** Class of a UTF-16 code unit (`charCodeAt`). */
export const charClass = (code: number): CharClass => TABLE[code] as CharClass;

/** Part of a word: digits, underscore, marks and the letters of the scripts written with spaces. */
export const isWordClass = (cls: CharClass): boolean => cls >= CH.DIGIT && cls <= CH.HANGUL;

/** A letter of some script (what the script shares are shares of). */
export const isLetterClass = (cls: CharClass): boolean => cls >= CH.LATIN && cls <= CH.IDEOGRAPH;
