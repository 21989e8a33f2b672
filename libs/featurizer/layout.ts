import { CH, charClass, isWordClass } from './char-class.js';
import { fnv1a } from './hash.js';

/**
 * How a prompt is laid out, read line by line: code (python-like or brace-like), tests, multiple-choice options,
 * and the labels of an exam question. Each rule reads one line (or the first and last characters of the text) a
 * bounded number of times and never looks past it, so the layout of a text costs time linear in its length.
 */

/** Bits of {@link lineShape}. */
export const LINE = {
  BLANK: 1,
  /** `def f(…):`, `if x:`, `for …:` … : a python block header, if the next line is indented further. */
  PY_HEADER: 2,
  /** A docstring quote (`"""`, `'''`) or `from module import …`. */
  PY: 4,
  /**
   * Ends with `{` or `}`, or with `;` after a call, an assignment or `return`/`break`/`continue`; has an arrow `=>`;
   * opens a `/*` or `//` comment; or is `const`/`var`/`#include`.
   */
  BRACE: 8,
  /** `assert …` or a doctest `>>> …`. */
  TEST: 16,
} as const;
/** Bits OPTION_SHIFT…OPTION_SHIFT+3 of {@link lineShape}: the line is option a, b, c or d of a question. */
export const OPTION_SHIFT = 5;

const hashOf = (s: string) => fnv1a(s, 0, s.length);
const PY_BLOCK_HEADS = new Set(['def', 'class', 'if', 'elif', 'else', 'for', 'while', 'with', 'try', 'except', 'finally', 'async'].map(hashOf));
const BRACE_HEADS = new Set(['const', 'var'].map(hashOf));
/** Statements without a call or an assignment that end with ';' ("return x;"): a ';' alone ends Greek questions. */
const STATEMENT_HEADS = new Set(['return', 'break', 'continue'].map(hashOf));
const FROM = hashOf('from');
const ASSERT = hashOf('assert');

const isSpace = (c: number) => charClass(c) === CH.SPACE;

/** After `from` (ending at `i`): one module path (words and dots), then `import` — python's `from a.b import c`. */
function importsFrom(text: string, i: number, end: number): boolean {
  let k = i;
  while (k < end && isSpace(text.charCodeAt(k))) k++;
  const path = k;
  while (k < end && (isWordClass(charClass(text.charCodeAt(k))) || text.charCodeAt(k) === 0x2e)) k++;
  return k > path && text.startsWith(' import ', k);
}

/** Leading white space of the line `text[start, end)`, in characters (a tab counts one). */
export function lineIndent(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && isSpace(text.charCodeAt(i))) i++;
  return i - start;
}

/** Option letter a–d (0–3) of a line starting at `i` with `a)`, `(b)`, `c.`, `d:`, `A、` …; -1 if none. */
function optionLetter(text: string, i: number, end: number): number {
  let c = text.charCodeAt(i);
  if (c === 0x28 || c === 0xff08) c = i + 1 < end ? text.charCodeAt(++i) : 0; // '(' or '（'
  const letter = c >= 0x61 && c <= 0x64 ? c - 0x61 : c >= 0xff41 && c <= 0xff44 ? c - 0xff41 : -1; // a-d, ａ-ｄ
  if (letter < 0 || i + 1 >= end) return -1;
  const d = text.charCodeAt(i + 1);
  const ascii = d === 0x29 || d === 0x2e || d === 0x3a; // ) . :
  const wide = d === 0xff09 || d === 0xff0e || d === 0x3001 || d === 0xff1a; // ） ． 、 ：
  if (!ascii && !wide) return -1;
  // After an ASCII delimiter a space or the end of the line (so "a.m." and "d.c." are not options).
  if (ascii && i + 2 < end && !isSpace(text.charCodeAt(i + 2))) return -1;
  return letter;
}

/**
 * The shape of the line `text[start, end)` (no line break inside): {@link LINE} bits, and bit
 * `OPTION_SHIFT + k` when it is option k. Linear in the line.
 */
export function lineShape(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && isSpace(text.charCodeAt(i))) i++;
  if (i === end) return LINE.BLANK;
  let j = end - 1;
  while (isSpace(text.charCodeAt(j))) j--;
  const last = text.charCodeAt(j);
  let w = i;
  while (w < end && isWordClass(charClass(text.charCodeAt(w)))) w++;
  const head = w > i ? fnv1a(text, i, w) : 0;
  // One pass over the line for what may occur anywhere in it.
  let docstring = false;
  let arrow = false;
  let call = false;
  let assignment = false;
  for (let k = i; k <= j; k++) {
    const c = text.charCodeAt(k);
    if ((c === 0x22 || c === 0x27) && k + 2 <= j && text.charCodeAt(k + 1) === c && text.charCodeAt(k + 2) === c)
      docstring = true; // """ or '''
    else if (c === 0x3d) {
      assignment = true;
      if (k + 1 <= j && text.charCodeAt(k + 1) === 0x3e) arrow = true; // =>
    } else if (c === 0x28) call = true;
  }
  let bits = 0;
  if (last === 0x3a && PY_BLOCK_HEADS.has(head)) bits |= LINE.PY_HEADER; // ':'
  if (docstring || (head === FROM && importsFrom(text, w, j + 1))) bits |= LINE.PY;
  if (
    last === 0x7b || // {
    last === 0x7d || // }
    (last === 0x3b && (call || assignment || STATEMENT_HEADS.has(head))) || // a statement;
    BRACE_HEADS.has(head) ||
    text.startsWith('/*', i) ||
    text.startsWith('//', i) ||
    text.startsWith('#include', i) ||
    arrow
  )
    bits |= LINE.BRACE;
  if (head === ASSERT || text.startsWith('>>>', i)) bits |= LINE.TEST;
  const option = optionLetter(text, i, j + 1);
  if (option >= 0) bits |= 1 << (OPTION_SHIFT + option);
  return bits;
}

/** Labels that open an exam question ("Question: …", "问题：…"). */
const QUESTION_LABELS = ['question', 'q', 'problem', '问题', '题目'];
/** Labels that end a prompt left for the answer ("… Answer:", "答案："): a completion-style prompt. */
const ANSWER_LABELS = ['answer', 'answers', 'a', 'solution', 'output', 'response', '答案', '答', '解'];

const isColon = (c: number) => c === 0x3a || c === 0xff1a;
const isWordAt = (text: string, i: number) => i >= 0 && i < text.length && isWordClass(charClass(text.charCodeAt(i)));

/** The text opens with a question label and a colon. Reads the first line's start only. */
export function questionLabel(text: string): boolean {
  let i = 0;
  while (i < text.length && (isSpace(text.charCodeAt(i)) || text.charCodeAt(i) === 0x0a)) i++;
  for (const label of QUESTION_LABELS) {
    if (!text.startsWith(label, i) || isWordAt(text, i + label.length)) continue;
    let k = i + label.length;
    while (k < text.length && isSpace(text.charCodeAt(k))) k++;
    if (isColon(text.charCodeAt(k))) return true;
  }
  return false;
}

/** The text ends with an answer label and a colon, the answer left to the model. Reads the end only. */
export function answerSlot(text: string): boolean {
  let j = text.length - 1;
  while (j >= 0 && (isSpace(text.charCodeAt(j)) || text.charCodeAt(j) === 0x0a)) j--;
  if (j < 0 || !isColon(text.charCodeAt(j))) return false;
  j--;
  while (j >= 0 && isSpace(text.charCodeAt(j))) j--;
  for (const label of ANSWER_LABELS) {
    const start = j + 1 - label.length;
    if (start < 0 || !text.startsWith(label, start)) continue;
    if (charClass(label.charCodeAt(0)) === CH.IDEOGRAPH || !isWordAt(text, start - 1)) return true;
  }
  return false;
}

/** Lines of a text that show code, tests and options. */
export interface LayoutTally {
  /** Python evidence: confirmed block headers, docstring quotes, `from … import`. */
  python: number;
  /** Brace-language evidence (C, Java, JavaScript…): see {@link LINE}.BRACE. */
  brace: number;
  /** `assert` and doctest lines. */
  tests: number;
  /** Bit k: some line is option k (a–d) of a question. */
  options: number;
  /** The text opens with a question label / ends with an answer label (see {@link questionLabel}, {@link answerSlot}). */
  questionLabel: boolean;
  answerSlot: boolean;
}

/**
 * Walks the lines of `text` once ({@link lineShape} each). A python block header counts when the next non-blank
 * line is indented further than it (so "for example:" in prose does not).
 */
export function tallyLayout(text: string, t: LayoutTally): void {
  let python = 0;
  let brace = 0;
  let tests = 0;
  let options = 0;
  let header = -1; // indent of an unconfirmed block header on the last non-blank line
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && text.charCodeAt(i) !== 0x0a) continue;
    const shape = lineShape(text, start, i);
    if ((shape & LINE.BLANK) === 0) {
      const indent = lineIndent(text, start, i);
      if (header >= 0 && indent > header) python++;
      header = shape & LINE.PY_HEADER ? indent : -1;
      if (shape & LINE.PY) python++;
      if (shape & LINE.BRACE) brace++;
      if (shape & LINE.TEST) tests++;
      options |= (shape >>> OPTION_SHIFT) & 0xf;
    }
    start = i + 1;
  }
  t.python = python;
  t.brace = brace;
  t.tests = tests;
  t.options = options;
  t.questionLabel = questionLabel(text);
  t.answerSlot = answerSlot(text);
}
