import { CUES } from './cues.js';
import { bestTimeMs, HOSTILE_TEXTS, hostileTexts, MAX_INPUT_CHARS } from './testing/hostile-text.js';

/**
 * The multiple-choice cue as first written. Quadratic on runs of blank lines (each '\n' rescans the rest of the
 * run), so it is only ever run here, on short texts, as the reference the linear form must agree with.
 */
const MULTIPLE_CHOICE_BEFORE = /(^|\n)\s*(\(?[a-d][).:])\s|\banswer with the letter\b|\boptions?:/;

/** Ordinary prompts, and the multiple-choice layouts seen in benchmarks (blank lines, indents, CRLF, parentheses). */
const PROMPTS = [
  'Translate "good morning" into French, please.',
  'def add(a, b):\n    return a + b',
  'Solve 3x + 5 = 20 for x',
  'Which is right?\nA. red\nB. blue\nC. green',
  'Write a short poem about rain',
  'What is the capital of France?',
  '写一首关于秋天的诗',
  'Which planet is largest?\n\n(a) Mars\n(b) Jupiter\n(c) Venus\n(d) Earth\n\nAnswer with the letter.',
  'Pick one.\r\n  a) first\r\n  b) second',
  'Question: 2 + 2 = ?\n\n\n   \n\tb: four\n',
  'a) starts the text',
  '   (c) after leading spaces',
  'Options: yes, no',
  'List the steps:\n1. boil water\n2. add pasta',
  'Please summarize the following article.\n\nThe economy grew by 3% in the last quarter (a record).\n',
  'see (a) inline, not at a line start',
  'a)no space after',
  'e) not an option letter\n',
  '\n\n\n',
  '',
];

/** Short random texts over the characters the two forms could disagree on. Seeded (xorshift32). */
function randomTexts(count: number, seed: number): string[] {
  const alphabet = ['\n', '\n', ' ', ' ', '\t', '\r', '\u00a0', '\u2028', '(', 'a', 'b', 'e', ')', '.', ':', 'x'];
  let s = seed >>> 0;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  return Array.from({ length: count }, () => Array.from({ length: Math.floor(next() * 24) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''));
}

describe('task cues', () => {
  const multipleChoice = CUES.find((c) => c.name === 'multiple-choice')!.re;

  it('multiple choice: the linear form fires on exactly the texts the first form fired on', () => {
    const texts = [...PROMPTS, ...PROMPTS.map((p) => p.toLowerCase()), ...randomTexts(20_000, 2026)];
    const disagree = texts.filter((t) => multipleChoice.test(t) !== MULTIPLE_CHOICE_BEFORE.test(t));
    expect(disagree).toEqual([]);
    // The corpus holds both outcomes, so agreement is not vacuous.
    expect(texts.filter((t) => multipleChoice.test(t)).length).toBeGreaterThan(500);
    expect(texts.filter((t) => !multipleChoice.test(t)).length).toBeGreaterThan(1000);
  });

  describe('each cue is linear on hostile 1 MB texts', () => {
    const quarters = hostileTexts(MAX_INPUT_CHARS / 4);
    for (const cue of CUES) {
      it(cue.name, () => {
        const test = (s: string) => cue.re.test(s);
        const slow: string[] = [];
        for (const [name, text] of Object.entries(HOSTILE_TEXTS)) {
          expect(text.length).toBe(MAX_INPUT_CHARS);
          const ms = bestTimeMs(test, text);
          const quarter = bestTimeMs(test, quarters[name]);
          // Linear: the same shape four times as long takes about four times as long (quadratic: sixteen times);
          // compared within the same text, not against plain prose, whose quick rejections some cues cannot use.
          // The absolute bound is generous for slow machines.
          if (ms > 200 || ms > 8 * Math.max(quarter, 5)) slow.push(`${name}: ${ms.toFixed(1)} ms (a quarter of it: ${quarter.toFixed(1)} ms)`);
        }
        expect(slow).toEqual([]);
      });
    }
  });
});
