import { answerSlot, LINE, lineShape, OPTION_SHIFT, questionLabel, tallyLayout, type LayoutTally } from './layout.js';

const shape = (line: string) => lineShape(line, 0, line.length);
/** The layout of a text, lower-cased as the featurizer reads it. */
const layout = (text: string): LayoutTally => {
  const t = { python: 0, brace: 0, tests: 0, options: 0, questionLabel: false, answerSlot: false };
  tallyLayout(text.toLowerCase(), t);
  return t;
};

/** Short random texts over the characters the option rule reads. Seeded (xorshift32). */
function randomTexts(count: number, seed: number): string[] {
  const alphabet = ['\n', '\n', ' ', ' ', '\t', '\r', '\u00a0', '\u2028', '(', '（', 'a', 'b', 'e', 'ａ', ')', '.', ':', '、', '）', 'x'];
  let s = seed >>> 0;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  return Array.from({ length: count }, () => Array.from({ length: Math.floor(next() * 24) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''));
}

/**
 * The option rule as a regular expression, line by line (lines end at '\n' only; a multiline `^` would also start
 * one after '\r' and '\u2028'): the letters of the lines that are options. Short texts only.
 */
const OPTION_LINE = /^[^\S\n]*[(（]?([a-dａ-ｄ])(?:[).:](?=\s|$)|[）．、：])/;
const referenceOptions = (text: string) => {
  let bits = 0;
  for (const line of text.split('\n')) {
    const m = OPTION_LINE.exec(line);
    if (m) bits |= 1 << ('abcd'.indexOf(m[1]) >= 0 ? 'abcd'.indexOf(m[1]) : 'ａｂｃｄ'.indexOf(m[1]));
  }
  return bits;
};

describe('layout', () => {
  it('reads python: block headers followed by an indented line, docstrings, from-imports', () => {
    expect(layout('def f(x):\n    return x\n').python).toBe(1);
    expect(layout('def f(x):\n    """Doc."""\n').python).toBe(2);
    expect(layout('from typing import List\nfrom a.b import c').python).toBe(2);
    expect(layout('for example:\nthe next line is not indented').python).toBe(0);
    expect(layout('if you like:').python).toBe(0); // a header with nothing after it
    expect(layout('From the start, import duties rose.').python).toBe(0);
  });

  it('reads brace languages: { } endings, statements ending with ;, arrows, comments, const/var, #include', () => {
    for (const line of [
      'int main() {',
      '}',
      'x = 1;',
      'print(x);',
      'return x;',
      'const f = 1',
      'var y',
      'a => a',
      '/* note */',
      '// note',
      '#include <stdio.h>',
    ])
      expect([line, shape(line) & LINE.BRACE]).toEqual([line, LINE.BRACE]);
    for (const line of ['Ποια είναι η πρωτεύουσα της Ελλάδας;', 'first; second', 'He said: yes', 'Let x be 3.'])
      expect([line, shape(line) & LINE.BRACE]).toEqual([line, 0]);
  });

  it('reads tests: assert and doctest lines', () => {
    expect(layout('assert f(1) == 2\n  >>> f(2)\n  4').tests).toBe(2);
    expect(layout('I assert that this is true.').tests).toBe(0); // "assert" not first
  });

  it('reads options a–d at line starts, in the layouts benchmarks use', () => {
    expect(layout('Which?\nA. red\nB. blue\nC) green\n(d) grey').options).toBe(0b1111);
    expect(layout('题目\nA、甲\nB．乙').options).toBe(0b11);
    expect(layout('Pick one.\r\n  a) first\r\n  b) second').options).toBe(0b11);
    expect(layout('see (a) inline\na.m. is early\ne) not a letter\nd.c. is a city').options).toBe(0);
    expect(shape('b. blue') >>> OPTION_SHIFT).toBe(0b10);
  });

  it('reads options exactly as the reference expression does (seeded random texts)', () => {
    const texts = randomTexts(20_000, 2026);
    const disagree = texts.filter((t) => layout(t).options !== referenceOptions(t.toLowerCase()));
    expect(disagree).toEqual([]);
    expect(texts.filter((t) => layout(t).options !== 0).length).toBeGreaterThan(500); // not vacuous
  });

  it('reads exam labels: a question label opening the text, an answer label closing it', () => {
    expect(questionLabel('question: what?')).toBe(true);
    expect(questionLabel('\n  Q : what?'.toLowerCase())).toBe(true);
    expect(questionLabel('问题：什么？')).toBe(true);
    expect(questionLabel('questions about: x')).toBe(false);
    expect(questionLabel('the question: what?')).toBe(false);
    expect(answerSlot('what is 2 + 2?\nanswer:')).toBe(true);
    expect(answerSlot('… without explanation. answer:  \n')).toBe(true);
    expect(answerSlot('d. 3，执业答案：')).toBe(true);
    expect(answerSlot('q: hi\na:')).toBe(true);
    expect(answerSlot('here is my answer: yes')).toBe(false);
    expect(answerSlot('a banana:')).toBe(false);
    expect(answerSlot(':')).toBe(false);
  });
});
